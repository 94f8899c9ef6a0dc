"""Wire helpers: JSON answers in Langfuse's shapes, strict query parameters, cursors.

Datetimes go out as ISO-8601 UTC with milliseconds and "Z" (what Langfuse returns);
a query parameter the route does not know is a 400, so a client sending a typo or a
parameter the real API lacks learns it here rather than in production. Cursors are
opaque base64 of an offset, as the real cursors are opaque.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from lse.sandbox.langfuse.state import SandboxError


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return iso(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def json_response(obj: Any, status: int = 200) -> Response:
    body = json.dumps(obj, default=_default, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json")


def error_response(status: int, message: str) -> Response:
    names = {400: "InvalidRequestError", 401: "UnauthorizedError", 404: "NotFoundError", 409: "ConflictError"}
    return json_response({"message": message, "error": names.get(status, "Error")}, status)


def params(request: Request, allowed: Iterable[str]) -> dict[str, str]:
    """The query parameters as a dict of single values; unknown or repeated ones are a 400."""
    allowed = set(allowed)
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            raise SandboxError(
                400, f"unknown query parameter {key!r}; this endpoint takes {', '.join(sorted(allowed))}"
            )
        if key in out:
            raise SandboxError(400, f"query parameter {key!r} given twice; use a comma-separated list")
        out[key] = value
    return out


def int_param(values: dict[str, str], key: str, default: int, *, low: int, high: int) -> int:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError as exc:
        raise SandboxError(400, f"{key} must be an integer") from exc
    if not low <= number <= high:
        raise SandboxError(400, f"{key} must be between {low} and {high}")
    return number


def time_param(values: dict[str, str], key: str, *, required: bool = False) -> datetime | None:
    raw = values.get(key)
    if raw is None:
        if required:
            raise SandboxError(400, f"{key} is required")
        return None
    try:
        ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SandboxError(400, f"{key} must be an ISO 8601 datetime") from exc
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def bool_param(values: dict[str, str], key: str) -> bool | None:
    raw = values.get(key)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise SandboxError(400, f"{key} must be true or false")
    return raw.lower() == "true"


def fields_param(values: dict[str, str], allowed: Iterable[str], default: Iterable[str]) -> set[str]:
    raw = values.get("fields")
    if raw is None:
        return set(default)
    chosen = {f.strip() for f in raw.split(",") if f.strip()}
    unknown = chosen - set(allowed)
    if unknown:
        raise SandboxError(400, f"unknown field group(s) {', '.join(sorted(unknown))}")
    return chosen


def csv_param(values: dict[str, str], key: str) -> set[str] | None:
    raw = values.get(key)
    return {v.strip() for v in raw.split(",") if v.strip()} if raw is not None else None


def page(rows: list[Any], values: dict[str, str], limit: int) -> tuple[list[Any], dict[str, Any]]:
    """One cursor page of `rows` and its meta (`cursor` only when there is a next page)."""
    offset = 0
    if values.get("cursor"):
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(values["cursor"].encode()))["o"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SandboxError(400, "cursor is not one this server issued") from exc
    chunk = rows[offset : offset + limit]
    meta: dict[str, Any] = {}
    if offset + limit < len(rows):
        meta["cursor"] = base64.urlsafe_b64encode(json.dumps({"o": offset + limit}).encode()).decode()
    return chunk, meta


def parse_json(raw: str | None) -> Any:
    """A string attribute as the JSON it encodes, else the string itself."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
