"""`lse archive refetch`: re-extract the retention window into files and database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from lse.cli.archive import app
from lse.cli.console import BarProgress, out, print_json
from lse.cli.options import (
    DelayMsOpt,
    EndDateOpt,
    JsonOpt,
    ProjectOpt,
    QuietOpt,
    StartDateOpt,
    days_from,
    delay_override,
)
from lse.errors import PartialResult, UsageError
from lse.settings import load_settings

if TYPE_CHECKING:
    from lse.jobs.refetch import RefetchReport


def render_refetch(report: RefetchReport) -> Table:
    via = f", via the {report.run_api} runs query" if report.run_api else ""
    table = Table(title=f"Re-fetch {report.project} (campaign {report.campaign}{via})")
    for col in (
        "day",
        "status",
        "runs before",
        "runs after",
        "feedback before",
        "feedback after",
        "rationale recovered",
        "in db",
    ):
        table.add_column(col, justify="left" if col in ("day", "status") else "right")
    for d in report.days:
        colour = {"complete": "green", "expired upstream": "yellow"}.get(d.status, "red")
        status = d.status + (" (expired upstream)" if d.expired_upstream and d.status == "incomplete" else "")
        table.add_row(
            str(d.date) + (" (resumed)" if d.resumed else ""),
            f"[{colour}]{status}",
            str(d.runs_before),
            str(d.runs_after),
            str(d.feedback_records_before),
            str(d.feedback_records_after),
            str(d.rationale_recovered),
            str(d.db_runs_loaded),
        )
    for f in report.failed_days:
        table.add_row(str(f.date), "[red]failed", "-", "-", "-", "-", "-", "-")
    return table


@app.command("refetch")
def refetch(
    project: ProjectOpt,
    days: int = typer.Option(14, "--days", min=1, max=366, help="How many days back from today (UTC), today included."),
    start_date: StartDateOpt = None,
    end_date: EndDateOpt = None,
    restart: bool = typer.Option(False, "--restart", help="Ignore the checkpoint of an interrupted re-fetch."),
    delay_ms: DelayMsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Re-fetch each day of the window; never deletes or shrinks what is archived; resumable."""
    from lse.jobs.refetch import refetch_window, window

    if (start_date or end_date) and not (start_date and end_date):
        raise UsageError("give both --start-date and --end-date, or neither (then --days)")
    the_days = days_from(None, start_date, end_date) if start_date else window(days)
    settings = load_settings(**delay_override(delay_ms))
    show = not (as_json or quiet)
    with BarProgress(enabled=None if show else False) as progress:
        report = refetch_window(settings, project, the_days, progress, restart=restart)
    if as_json:
        print_json(report)
    elif show:
        out.print(render_refetch(report))
    if not report.complete:
        raise PartialResult(f"re-fetch incomplete ({'; '.join(report.problems)}); run it again to fill the gap")
