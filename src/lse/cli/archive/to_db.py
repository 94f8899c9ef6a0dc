"""`lse archive to-db`: load archived project-days into the database (lse.store.loader)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from lse.archive.layout import require_archived
from lse.cli import console
from lse.cli.archive import app
from lse.cli.options import DateOpt, EndDateOpt, JsonOpt, ProjectOpt, QuietOpt, StartDateOpt, days_from
from lse.errors import PartialResult
from lse.settings import load_settings

if TYPE_CHECKING:
    from lse.store.loader import LoadRangeReport, LoadReport


@app.command("to-db")
def to_db(
    project: ProjectOpt,
    day: DateOpt = None,
    start_date: StartDateOpt = None,
    end_date: EndDateOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Load archived days into the database: upsert by id, merged, never shrinking.

    Exits 3 when some runs could not be loaded (the rest are loaded and listed).
    """
    from lse.jobs.preflight import check_settings
    from lse.store.loader import LoadRangeReport, load_day, load_range

    days = days_from(day, start_date, end_date)
    settings = load_settings()
    check_settings(settings, database="ready")  # before the first row
    require_archived(settings, project, days)  # a typo never succeeds on nothing
    with console.BarProgress(enabled=False if (json_out or quiet) else None) as progress:
        result: LoadReport | LoadRangeReport
        if day:
            one = load_day(settings, project, days[0], progress)
            result, reports = one, [one]
        else:
            span = load_range(settings, project, days[0], days[-1], progress)
            result, reports = span, span.days
    if json_out:
        console.print_json(result)
    else:
        _render(reports, result if isinstance(result, LoadRangeReport) else None)
    bad = sum(r.bad_rows_count for r in reports)
    if bad:
        raise PartialResult(f"{bad} run(s) could not be loaded (listed in the report); the rest were loaded")


def _render(reports: list[LoadReport], span: LoadRangeReport | None) -> None:
    table = Table(title="lse archive to-db")
    for col in ("day", "runs", "new", "updated", "unchanged", "feedback rows", "feedback unknown", "escaped", "bad"):
        table.add_column(col, justify="left" if col == "day" else "right")
    for r in reports:
        table.add_row(
            str(r.day),
            str(r.runs_read),
            str(r.runs_inserted),
            str(r.runs_updated),
            str(r.runs_unchanged),
            str(r.feedback_rows),
            str(r.feedback["unknown"]),
            str(r.runs_escaped),
            str(r.bad_rows_count),
        )
    console.out.print(table)
    unknown = sum(r.feedback["unknown"] for r in reports)
    if unknown:
        console.out.print(
            f"{unknown} run(s) were archived before feedback capture: feedback unknown (not 'no feedback'); "
            "`lse archive refetch` fills it in."
        )
    not_fetched = sum(r.feedback["not_fetched"] for r in reports)
    if not_fetched:
        console.out.print(f"{not_fetched} run(s) have feedback that could not be fetched; stored records were kept.")
    for r in reports:
        for b in r.bad_rows:
            console.err.print(
                f"[red]bad row[/red] {r.day} #{b.position} run {b.run_id or '?'}: {b.error}",
                markup=True,
                highlight=False,
            )
    if span and span.days_not_archived:
        console.out.print(f"not archived: {', '.join(str(d) for d in span.days_not_archived)}")
