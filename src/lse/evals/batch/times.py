"""Datetimes as batch mode compares them: always aware, always UTC.

SQLite hands back naive datetimes for `DateTime(timezone=True)` columns (it stores no zone);
lse writes UTC only, so a naive value read back is UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def epoch(value: datetime) -> int:
    return int(as_utc(value).timestamp())


def from_epoch(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def seconds_between(earlier: datetime, later: datetime) -> float:
    return (as_utc(later) - as_utc(earlier)).total_seconds()
