"""Option parsing shared by commands: days from --date / --start-date / --end-date."""

from __future__ import annotations

from datetime import date, timedelta

from lse.errors import UsageError

MAX_DAYS = 366


def parse_day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{flag} must be a date like 2026-11-20, got {value!r}") from None


def days_from(day: str | None, start: str | None, end: str | None) -> list[date]:
    """One day (--date) or an inclusive range (--start-date/--end-date)."""
    if day and (start or end):
        raise UsageError("give either --date or --start-date/--end-date, not both")
    if day:
        return [parse_day(day, "--date")]
    if not (start and end):
        raise UsageError("give --date, or both --start-date and --end-date")
    first, last = parse_day(start, "--start-date"), parse_day(end, "--end-date")
    if last < first:
        raise UsageError(f"--end-date {last} is before --start-date {first}")
    count = (last - first).days + 1
    if count > MAX_DAYS:
        raise UsageError(f"the range has {count} days; at most {MAX_DAYS} per call")
    return [first + timedelta(days=i) for i in range(count)]
