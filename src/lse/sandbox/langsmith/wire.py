"""The wire format of values: datetimes as naive-UTC ISO-8601 strings with microseconds
(what LangSmith returns, e.g. "2026-11-20T10:00:00.123456") and costs as JSON numbers
written in plain decimal notation, never as floats in exponent form.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

_DEC_MARK = "@@lse-sandbox-decimal:"
_DEC_RE = re.compile('"' + re.escape(_DEC_MARK) + r'(-?[0-9]+(?:\.[0-9]+)?)"')


def iso(ts: datetime) -> str:
    """Naive-UTC ISO string with microseconds; aware datetimes are converted to UTC first."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds")


def parse_ts(text: str) -> datetime:
    """Parse an ISO-8601 string (naive means UTC, "Z" accepted) to a naive-UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    ts = datetime.fromisoformat(value)
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return _DEC_MARK + format(obj, "f")
    if isinstance(obj, datetime):
        return iso(obj)
    if isinstance(obj, UUID):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj: Any) -> bytes:
    """JSON bytes with Decimals as exact plain numbers (json has no hook for raw numbers,
    so Decimals travel as marked strings and are unquoted afterwards)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_default)
    if _DEC_MARK in text:
        text = _DEC_RE.sub(r"\1", text)
    return text.encode("utf-8")
