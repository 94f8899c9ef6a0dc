"""`lse archive fetch`: archive every run and native feedback record of project-days."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rich.table import Table

from lse.cli.archive import app
from lse.cli.console import BarProgress, out, print_json
from lse.cli.options import (
    DateOpt,
    DelayMsOpt,
    EndDateOpt,
    JsonOpt,
    ProjectOpt,
    QuietOpt,
    StartDateOpt,
    days_from,
    delay_override,
)
from lse.errors import PartialResult
from lse.settings import load_settings

if TYPE_CHECKING:
    from lse.jobs.fetch import FetchReport


def render_fetch_report(report: FetchReport) -> Table:
    via = f" via the {report.run_api} runs query" if report.run_api else ""
    table = Table(title=f"Archived {report.project}{via}")
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("day", "left"),
        ("status", "left"),
        ("runs", "right"),
        ("traces", "right"),
        ("feedback runs", "right"),
        ("records", "right"),
        ("requests", "right"),
        ("retries/429/err", "right"),
        ("secs", "right"),
    )
    for col, justify in columns:
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
    notes = [f"{f.date}: {f.error}" for f in report.failed_days]
    for endpoint, seen in report.deprecations.items():
        notes.append(f"warning: LangSmith marks {endpoint} deprecated (Sunset: {seen.sunset or 'not announced'})")
    table.caption = "\n".join(notes) or None
    return table


@app.command("fetch")
def fetch(
    project: ProjectOpt,
    date: DateOpt = None,
    start_date: StartDateOpt = None,
    end_date: EndDateOpt = None,
    delay_ms: DelayMsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fetch whole traces rooted on each day, with every native feedback record, into the archive."""
    from lse.jobs.fetch import fetch_days

    days = days_from(date, start_date, end_date)
    settings = load_settings(**delay_override(delay_ms))
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
        print_json(report)
    elif show:
        out.print(render_fetch_report(report))
