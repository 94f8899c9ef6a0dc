"""`lse archive fetch`: archive every run and native feedback record of project-days."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from lse.cli.archive import app
from lse.cli.console import BarProgress, err, out
from lse.cli.options import days_from
from lse.errors import PartialResult
from lse.settings import load_settings

if TYPE_CHECKING:
    from lse.jobs.fetch import FetchReport


def render_fetch_report(report: FetchReport) -> Table:
    table = Table(title=f"Archived {report.project}")
    for col, justify in (
        ("day", "left"),
        ("status", "left"),
        ("runs", "right"),
        ("traces", "right"),
        ("feedback runs", "right"),
        ("records", "right"),
        ("requests", "right"),
        ("retries/429/err", "right"),
        ("secs", "right"),
    ):
        table.add_column(col, justify=justify)
    for d in report.days:
        table.add_row(
            str(d.date),
            "[green]complete" if d.status == "complete" else "[red]incomplete",
            str(d.runs),
            str(d.traces),
            f"{d.runs_feedback_fetched}/{d.runs_with_feedback_stats}",
            str(d.feedback_records),
            str(d.requests),
            f"{d.retries}/{d.rate_limited}/{d.errors}",
            f"{d.duration_s:.1f}",
        )
    for f in report.failed_days:
        table.add_row(str(f.date), "[red]failed", "-", "-", "-", "-", "-", "-", "-")
    for f in report.failed_days:
        table.caption = ((table.caption + "\n") if table.caption else "") + f"{f.date}: {f.error}"
    return table


@app.command("fetch")
def fetch(
    project: str = typer.Option(..., "--project", "-p", help="LangSmith project name."),
    date: str | None = typer.Option(None, "--date", help="UTC day, YYYY-MM-DD."),
    start_date: str | None = typer.Option(None, "--start-date", help="First day of a range."),
    end_date: str | None = typer.Option(None, "--end-date", help="Last day of a range (inclusive)."),
    delay_ms: int | None = typer.Option(
        None, "--delay-ms", min=0, help="Milliseconds between requests (default LSE_REQUEST_DELAY_MS or 1000)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or table."),
) -> None:
    """Fetch whole traces rooted on each day, with every native feedback record, into the archive."""
    from lse.jobs.fetch import fetch_days

    days = days_from(date, start_date, end_date)
    overrides = {} if delay_ms is None else {"request_delay_ms": delay_ms}
    settings = load_settings(**overrides)
    show = not (as_json or quiet)
    report: FetchReport | None = None
    with BarProgress(enabled=None if show else False) as progress:
        try:
            report = fetch_days(settings, project, days, progress)
        except PartialResult as exc:
            report = exc.details  # type: ignore[assignment]
            _emit(report, as_json, show)
            raise
    _emit(report, as_json, show)


def _emit(report: FetchReport | None, as_json: bool, show: bool) -> None:
    if report is None:
        return
    if as_json:
        out.print_json(json.dumps(report.model_dump(mode="json")))
    elif show:
        err.print(render_fetch_report(report))
