"""ISO-8601 timestamps as aware UTC datetimes, whatever their spelling.

LangSmith writes naive UTC ("2026-11-20T10:00:00.123456"); other servers write "Z" or
"+00:00". Comparing the strings would misorder them, so every comparison goes through here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_utc(raw: Any) -> datetime | None:
    """An aware UTC datetime, or None when absent or unreadable (also when the instant
    falls outside the years 1-9999 in UTC, e.g. "9999-12-31T23:00:00-05:00")."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        dt = raw
    elif isinstance(raw, str):
        try:  # Python 3.11+ reads "Z" and the other ISO 8601 spellings itself
            dt = datetime.fromisoformat(raw)
        except ValueError:
            try:
                dt = datetime.fromisoformat(raw.strip())
            except ValueError:
                return None
    else:
        return None
    try:
        return as_utc(dt)
    except OverflowError:
        return None


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime: a naive one is taken as UTC (how LangSmith writes its
    timestamps and SQLite's DateTime reads them back), an aware one converted.
    OverflowError when the instant falls outside the years 1-9999 in UTC."""
    if value.tzinfo is None:
        # The same fields with UTC attached: `value.replace(tzinfo=UTC)`, at a fifth of
        # the cost (replace parses keyword arguments; a load calls this for every run).
        return datetime.combine(value, value.time(), UTC)
    return value.astimezone(UTC)
