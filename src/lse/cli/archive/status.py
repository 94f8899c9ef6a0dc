"""`lse archive status`: recent fetches, their figures and alerts; exit code = worst level."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from lse.cli.archive import app
from lse.cli.console import out, print_json
from lse.settings import load_settings

LEVEL_STYLE = {"CRITICAL": "bold red", "WARNING": "yellow", "INFO": "cyan", "SUCCESS": "green"}

if TYPE_CHECKING:
    from lse.monitoring.status import StatusReport


class Format(StrEnum):
    table = "table"
    json = "json"
    prometheus = "prometheus"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def render_status(report: StatusReport) -> tuple[Table, Table]:
    fetches = Table(title=f"Fetches of the last {report.window_days} day(s)")
    for col in (
        "finished",
        "kind",
        "project",
        "day",
        "status",
        "api",
        "runs",
        "coverage",
        "fb failure",
        "api errors",
        "s/1k runs",
        "s/trace",
    ):
        fetches.add_column(col)
    for f in report.fetches:
        fetches.add_row(
            f.finished_at.strftime("%Y-%m-%d %H:%M:%S") if f.finished_at else "-",
            f.kind,
            f.project,
            str(f.day),
            f.status,
            f.run_api or "-",
            str(f.runs),
            _pct(f.feedback_coverage_rate),
            _pct(f.feedback_failure_rate),
            _pct(f.api_error_rate),
            "-" if f.seconds_per_1000_runs is None else f"{f.seconds_per_1000_runs:.2f}",
            "-" if f.seconds_per_trace is None else f"{f.seconds_per_trace:.3f}",
        )
    alerts = Table(title="Alerts")
    for col in ("level", "project", "day", "message"):
        alerts.add_column(col)
    for a in report.alerts:
        alerts.add_row(f"[{LEVEL_STYLE[a.level.value]}]{a.level.value}", a.project, str(a.day or "-"), a.message)
    for p in report.refetch:
        alerts.add_row(
            "[cyan]INFO",
            p.project,
            "-",
            f"re-fetch {p.campaign}: {p.days_done}/{p.days_total} days, {p.runs_processed} runs{' (completed)' if p.completed else ''}",
        )
    return fetches, alerts


@app.command("status")
def status(
    project: str | None = typer.Option(None, "--project", "-p", help="Only this project."),
    days: int = typer.Option(7, "--days", min=1, max=3660, help="Window of recent fetches, in days."),
    as_json: bool = typer.Option(False, "--json", help="Same data as JSON (alias of --format json)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or prometheus (textfile collector)."),
) -> None:
    """Recent fetches with coverage, failure and error rates, and alerts. Exit 0 ok, 1 warning, 2 critical."""
    from lse.jobs.preflight import check_settings
    from lse.monitoring.prometheus import exposition
    from lse.monitoring.status import build_status

    settings = load_settings()
    check_settings(settings, database="ready")
    report = build_status(settings, project=project, days=days)
    if as_json or fmt is Format.json:
        print_json(report)
    elif fmt is Format.prometheus:
        print(exposition(report), end="")  # noqa: T201 -- the exposition text goes to stdout exactly as rendered
    else:
        for table in render_status(report):
            out.print(table)
        worst = report.worst.value if report.worst else "none"
        out.print(f"worst level: {worst} (exit {report.exit_code})")
    raise typer.Exit(report.exit_code)
