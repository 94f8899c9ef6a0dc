"""Options shared by commands, declared once: the day options (--date, --start-date,
--end-date) and the usual --project/--delay-ms/--json/--quiet, plus their parsing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from lse.errors import UsageError

MAX_DAYS = 366

DateOpt = Annotated[str | None, typer.Option("--date", help="UTC day, YYYY-MM-DD.")]
StartDateOpt = Annotated[str | None, typer.Option("--start-date", help="First UTC day of a range, YYYY-MM-DD.")]
EndDateOpt = Annotated[str | None, typer.Option("--end-date", help="Last UTC day of a range (inclusive).")]
ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="LangSmith project name.")]
DelayMsOpt = Annotated[
    int | None,
    typer.Option("--delay-ms", min=0, help="Milliseconds between requests (default LSE_REQUEST_DELAY_MS or 1000)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table.")]


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


def delay_override(delay_ms: int | None) -> dict[str, int]:
    """Settings overrides for --delay-ms (none when it was not given)."""
    return {} if delay_ms is None else {"request_delay_ms": delay_ms}
