"""`lse archive full-sweep`: fetch + to-db in one command, with progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    from lse.jobs.full_sweep import SweepReport


def render_sweep(report: SweepReport) -> Table:
    via = f" via the {report.run_api} runs query" if report.run_api else ""
    table = Table(title=f"Full sweep {report.project}{via}")
    for col in ("day", "fetch", "runs", "feedback records", "db runs", "db feedback", "bad rows"):
        table.add_column(col)
    for d in report.days:
        table.add_row(
            str(d.fetch.date),
            d.fetch.status,
            str(d.fetch.runs),
            str(d.fetch.feedback_records),
            str(d.load.runs_inserted + d.load.runs_updated + d.load.runs_unchanged),
            str(d.load.feedback_rows),
            str(d.load.bad_rows_count),
        )
    return table


@app.command("full-sweep")
def full_sweep_cmd(
    project: ProjectOpt,
    date: DateOpt = None,
    start_date: StartDateOpt = None,
    end_date: EndDateOpt = None,
    delay_ms: DelayMsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fetch each day from LangSmith and load it into the database."""
    from lse.jobs.full_sweep import full_sweep

    days = days_from(date, start_date, end_date)
    settings = load_settings(**delay_override(delay_ms))
    show = not (as_json or quiet)
    with BarProgress(enabled=None if show else False) as progress:
        report = full_sweep(settings, project, days, progress)
    if as_json:
        print_json(report)
    elif show:
        out.print(render_sweep(report))
    if not report.complete:
        raise PartialResult("the sweep is incomplete (feedback not fetched or rows isolated); see the table")
