"""`lse archive verify`: compare archive files with the database (lse.store.verify), or a
sample of archived runs with LangSmith itself (`--against-source`, lse.jobs.verify_source)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from lse.archive.layout import require_archived
from lse.cli import console
from lse.cli.archive import app
from lse.cli.options import DateOpt, EndDateOpt, JsonOpt, ProjectOpt, QuietOpt, StartDateOpt, days_from
from lse.errors import VerificationFailed
from lse.settings import load_settings

if TYPE_CHECKING:
    from lse.jobs.verify_source import SourceCheck
    from lse.store.verify import VerifyReport

SHOWN = 50  # differences listed per day in the human view; --json has them all (up to 1000)


@app.command("verify")
def verify(
    project: ProjectOpt,
    day: DateOpt = None,
    start_date: StartDateOpt = None,
    end_date: EndDateOpt = None,
    against_source: bool = typer.Option(
        False, "--against-source", help="Compare a sample of archived runs with LangSmith instead of the database."
    ),
    sample: int = typer.Option(100, "--sample", min=1, help="Runs to re-read from LangSmith with --against-source."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the --against-source sample."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check that files and database agree: run ids, traces, feedback ids and content.

    Exits 3 (verification failed) when they disagree, listing the differences.
    """
    from lse.jobs.preflight import check_settings

    days = days_from(day, start_date, end_date)
    settings = load_settings()
    check_settings(settings, database=None if against_source else "ready")  # the key: once something is archived
    require_archived(settings, project, days)  # a typo never succeeds on nothing
    if against_source:
        from lse.jobs.verify_source import verify_against_source

        check = verify_against_source(settings, project, days, sample, seed)
        if json_out:
            console.print_json(check)
        else:
            _render_source(check)
        if not check.agrees:
            raise VerificationFailed(
                f"archive and LangSmith disagree on {len(check.differences)} point(s); "
                f"`lse archive refetch --project {shlex.quote(project)}` brings the archive up to date"
            )
        return

    from lse.store.verify import verify_day, verify_range

    with console.BarProgress(enabled=False if (json_out or quiet) else None) as progress:
        if day:
            reports = [verify_day(settings, project, days[0], progress)]
        else:
            reports = verify_range(settings, project, days[0], days[-1], progress)
    if json_out:
        console.print_json(reports)
    else:
        _render(reports)
    failed = [r for r in reports if not r.ok]
    if failed:
        total = sum(r.differences_count for r in failed)
        listed = ", ".join(str(r.day) for r in failed)
        when = (
            f"--date {failed[0].day}"
            if len(failed) == 1
            else f"--start-date {failed[0].day} --end-date {failed[-1].day}"
        )
        raise VerificationFailed(
            f"files and database disagree: {total} difference(s) on {listed}; "
            f"`lse archive to-db --project {shlex.quote(project)} {when}` rewrites the database from the files "
            "(it never deletes: what only the database holds stays)"
        )


def _render(reports: list[VerifyReport]) -> None:
    for r in reports:
        state = "[green]ok[/green]" if r.ok else f"[red]{r.differences_count} difference(s)[/red]"
        console.out.print(
            f"{r.project} {r.day}: {r.runs_in_files} runs in files, {r.runs_in_db} in db; "
            f"{r.feedback_in_files} feedback records in files, {r.feedback_rows_in_db} rows in db — {state}"
        )
        if r.ok:
            continue
        table = Table(show_header=True)
        for col in ("kind", "run", "feedback", "detail"):
            table.add_column(col)
        for d in r.differences[:SHOWN]:
            table.add_row(d.kind, d.run_id or "", d.feedback_id or "", d.detail)
        console.out.print(table)
        if r.differences_count > SHOWN:
            console.out.print(f"… {r.differences_count - SHOWN} more (use --json)")


def _render_source(check: SourceCheck) -> None:
    state = "[green]agrees[/green]" if check.agrees else f"[red]{len(check.differences)} difference(s)[/red]"
    console.out.print(
        f"{check.project}: {check.sampled} runs sampled, {check.compared} compared with LangSmith, "
        f"{len(check.expired_upstream)} expired upstream — {state}"
    )
    if check.differences:
        table = Table(show_header=True)
        for col in ("day", "run", "what", "detail"):
            table.add_column(col)
        for d in check.differences[:SHOWN]:
            table.add_row(str(d.day), d.run_id, d.what, d.detail)
        console.out.print(table)
