"""`POST /api/v2/runs/query`: the v2 run query with its documented defaults, which are traps
for a careless client, kept on purpose:

- `min_start_time` defaults to 24 hours ago and `max_start_time` to now, so a query for
  an older day without explicit bounds comes back empty;
- without `selects` only `id` comes back; an unknown select is a 422;
- `page_size` defaults to 100 and must be 1..1000 (else 422);
- tokens and costs are the run's own unless `include_subtree_usage`;
- there is no ordering: items come in a deterministic shuffle (a hash of the query and
  the run id), and the opaque `next_cursor` only continues the query that made it.

Unknown body keys are a 422 (stricter than a lenient server); `ai_search`, `sem_filter`
and the feedback `modified_at` bounds are not served by the sandbox (422 saying so).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lse.sandbox.langsmith.filters import FilterError
from lse.sandbox.langsmith.query import QueryError, run_predicates
from lse.sandbox.langsmith.shape_v2 import SELECT_FIELDS, v2_item
from lse.sandbox.langsmith.wire import parse_ts
from lse.sandbox.langsmith.world import RunRow, World

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
DEFAULT_WINDOW = timedelta(days=1)
RUN_TYPES = ("TOOL", "CHAIN", "LLM", "RETRIEVER", "EMBEDDING", "PROMPT", "PARSER")
BODY_KEYS = frozenset(
    {
        "ai_search",
        "cursor",
        "filter",
        "has_error",
        "ids",
        "include_subtree_usage",
        "is_root",
        "max_feedback_modified_at",
        "max_start_time",
        "min_feedback_modified_at",
        "min_start_time",
        "page_size",
        "project_ids",
        "reference_dataset_id",
        "reference_examples",
        "run_type",
        "selects",
        "sem_filter",
        "trace_filter",
        "trace_id",
        "tree_filter",
    }
)
NOT_SERVED = ("ai_search", "sem_filter", "min_feedback_modified_at", "max_feedback_modified_at", "reference_dataset_id")


class V2QueryError(QueryError):
    """A body the v2 API answers with 422."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _time(body: dict[str, Any], name: str, default: datetime) -> datetime:
    if body.get(name) is None:
        return default
    try:
        return parse_ts(str(body[name]))
    except ValueError as exc:
        raise V2QueryError(f"{name} must be an RFC 3339 date-time, got {body[name]!r}") from exc


def _bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise V2QueryError(f"{name} must be a boolean, got {value!r}")
    return value


def _strings(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise V2QueryError(f"{name} must be a list of strings")
    return [v.lower() for v in value]


def _selects(body: dict[str, Any]) -> list[str]:
    selects = body.get("selects")
    if selects is None:
        return ["ID"]
    if not isinstance(selects, list) or not all(isinstance(s, str) for s in selects):
        raise V2QueryError("selects must be a list of RunSelectField values")
    unknown = sorted(set(selects) - set(SELECT_FIELDS))
    if unknown:
        raise V2QueryError(f"selects has unknown fields {unknown}; allowed: {', '.join(SELECT_FIELDS)}")
    return list(dict.fromkeys(selects))


def _page_size(body: dict[str, Any]) -> int:
    size = body.get("page_size", DEFAULT_PAGE_SIZE)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_PAGE_SIZE:
        raise V2QueryError(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {size!r}")
    return size


def _fingerprint(body: dict[str, Any]) -> str:
    """What identifies the query (not the page): its body without cursor and page size."""
    query = {k: v for k, v in body.items() if k not in ("cursor", "page_size")}
    return hashlib.blake2b(json.dumps(query, sort_keys=True).encode(), digest_size=12).hexdigest()


def _shuffle_key(fingerprint: str, run_id: str) -> str:
    return hashlib.blake2b(f"{fingerprint}:{run_id}".encode(), digest_size=16).hexdigest()


def encode_cursor(fingerprint: str, after: str) -> str:
    raw = f"{fingerprint}.{after}".encode()
    return base64.urlsafe_b64encode(hashlib.blake2b(raw, digest_size=4).digest() + raw).decode().rstrip("=")


def decode_cursor(cursor: Any, fingerprint: str) -> str:
    try:
        packed = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4))
        check, raw = packed[:4], packed[4:]
        if hashlib.blake2b(raw, digest_size=4).digest() != check:
            raise ValueError("checksum")
        made_by, after = raw.decode().split(".", 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise V2QueryError("cursor is not a cursor this API issued") from exc
    if made_by != fingerprint:
        raise V2QueryError("cursor belongs to another query: send the same body with the cursor")
    return after


def _predicates(world: World, body: dict[str, Any], projects: list[str]) -> list[Callable[[RunRow], bool]]:
    run_type = body.get("run_type")
    if run_type is not None and run_type not in RUN_TYPES:
        raise V2QueryError(f"run_type must be one of {', '.join(RUN_TYPES)}, got {run_type!r}")
    v1_like = {
        "session": projects,
        "id": _strings(body, "ids") or None,
        "trace": str(body["trace_id"]).lower() if body.get("trace_id") else None,
        "run_type": run_type.lower() if run_type else None,
        "is_root": _bool(body, "is_root"),
        "error": _bool(body, "has_error"),
        "filter": body.get("filter"),
        "trace_filter": body.get("trace_filter"),
        "tree_filter": body.get("tree_filter"),
    }
    try:
        preds = run_predicates(world, {k: v for k, v in v1_like.items() if v is not None})
    except FilterError as exc:
        raise V2QueryError(f"invalid filter: {exc}") from exc
    examples = set(_strings(body, "reference_examples"))
    if examples:
        preds.append(lambda r: str(r.data.get("reference_example_id") or "").lower() in examples)
    return preds


def query_runs_v2(world: World, body: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """One page of runs for a `/api/v2/runs/query` body."""
    unknown = sorted(set(body) - BODY_KEYS)
    if unknown:
        raise V2QueryError(f"unknown body fields {unknown}")
    for name in NOT_SERVED:
        if body.get(name) is not None:
            raise V2QueryError(f"{name} is not served by the lse sandbox")
    projects = _strings(body, "project_ids")
    if not projects:
        raise V2QueryError("project_ids is required (a non-empty list of project UUIDs)")
    selects, page_size = _selects(body), _page_size(body)
    subtree = bool(_bool(body, "include_subtree_usage"))
    now = now or _now()
    lo, hi = _time(body, "min_start_time", now - DEFAULT_WINDOW), _time(body, "max_start_time", now)
    if lo > hi:
        raise V2QueryError("min_start_time is after max_start_time")
    fingerprint = _fingerprint(body)
    after = decode_cursor(body["cursor"], fingerprint) if body.get("cursor") else None
    with world.lock:
        preds = _predicates(world, body, projects)
        try:
            matched = []
            for project in filter(None, (world.project_by_id(p) for p in projects)):
                keys = world.sorted_keys(project["name"])
                for key in keys[bisect.bisect_left(keys, (lo, "")) : bisect.bisect_right(keys, (hi, "\uffff"))]:
                    row = world.runs.get(key[1])
                    if row is not None and all(p(row) for p in preds):
                        matched.append((_shuffle_key(fingerprint, key[1]), row))
        except FilterError as exc:
            raise V2QueryError(f"invalid filter: {exc}") from exc
        matched.sort(key=lambda m: m[0])
        if after is not None:
            matched = matched[bisect.bisect_right([m[0] for m in matched], after) :]
        page = matched[:page_size]
        items = [v2_item(world, row, selects, subtree) for _, row in page]
    more = len(matched) > page_size
    return {"items": items, "next_cursor": encode_cursor(fingerprint, page[-1][0]) if more else None}
