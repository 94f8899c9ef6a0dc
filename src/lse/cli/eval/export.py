"""`lse eval export RUN [--to langfuse|langsmith]`: export or repair a run's traces now."""

from __future__ import annotations

import typer
from rich.table import Table

from lse.cli.console import out, print_json
from lse.cli.eval import app
from lse.errors import LseError, PartialResult
from lse.settings import load_settings

TARGETS = ("langfuse", "langsmith")


def outcomes_table(outcomes: list) -> Table:
    table = Table(title="Tracing export")
    for col in ("target", "state", "exported", "pending", "failed", "sent now", "duplicates", "where"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        table.add_row(
            o.target,
            (o.skipped and "busy") or o.state,
            str(o.exported),
            str(o.pending),
            str(o.failed),
            str(o.sent),
            str(o.duplicates),
            o.error or o.skipped or o.location or "",
        )
    return table


@app.command("export")
def export(
    run_id: int = typer.Argument(..., help="Evaluation run id (a completed run)."),
    to: str = typer.Option(None, "--to", help="langfuse or langsmith (default: every configured target)."),
    org: str = typer.Option(None, "--org", help="Only a run of this organization (with --project)."),
    project: str = typer.Option(None, "--project", help="Only a run of this project (with --org)."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome of each target as JSON."),
) -> None:
    """Export a completed run to Langfuse/LangSmith, or repair one: only what is missing is sent."""
    from lse.evals import runs
    from lse.tenancy import resolve_tenant
    from lse.tracing import export_run

    if to is not None and to not in TARGETS:
        raise typer.BadParameter(f"--to must be one of {', '.join(TARGETS)}")
    settings = load_settings()
    if org and project:
        runs.get_run(settings, resolve_tenant(settings, org, project), run_id)  # 404 for another tenant's run
    outcomes = export_run(settings, run_id, target=to)
    if not outcomes:
        raise LseError(
            "no tracing target is configured: set LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY or LANGSMITH_API_KEY",
            code="tracing_not_configured",
        )
    if as_json:
        print_json(outcomes)
    else:
        out.print(outcomes_table(outcomes))
    errors = [o for o in outcomes if o.error or o.skipped]
    if errors:
        raise LseError("; ".join(f"{o.target}: {o.error or o.skipped}" for o in errors))
    unfinished = [o for o in outcomes if o.state != "confirmed"]
    if unfinished:
        raise PartialResult(
            "; ".join(f"{o.target}: {o.pending} item(s) sent but not yet visible" for o in unfinished)
            + " — run the export again later (the background export also retries)"
        )
