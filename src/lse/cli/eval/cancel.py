"""`lse eval cancel RUN`: stop a run and keep what it finished.

A batch run's provider batches are cancelled now (asked again by every later poll until the
provider took each cancel); the run ends `cancelled` once their paid results are collected.
`--wait` steps it here until then. A fast run stops between calls on its worker's next
heartbeat.
"""

from __future__ import annotations

import time
from contextlib import suppress

import typer

from lse.cli.console import BarProgress, err
from lse.cli.eval import app
from lse.cli.eval.show import FORMATS, render
from lse.errors import ConflictError
from lse.settings import load_settings


@app.command("cancel")
def cancel(
    run_id: int = typer.Argument(..., help="Evaluation run id."),
    wait: bool = typer.Option(False, "--wait", help="Wait here until the run has ended `cancelled`."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    org: str = typer.Option(None, "--org", help="Only within this organization (with --project)."),
    project: str = typer.Option(None, "--project", help="Only within this project (with --org)."),
) -> None:
    """Cancel a run: batch runs cancel their provider batches and keep what they paid for."""
    from lse.evals import runs
    from lse.evals.cancel import cancel_run
    from lse.tenancy import resolve_tenant
    from lse.worker import dispatch  # the engines pull in the OpenAI SDK: load on use only

    if fmt not in FORMATS or fmt == "csv":
        raise typer.BadParameter("--format must be table or json")
    settings = load_settings()
    tenant = resolve_tenant(settings, org, project) if org and project else None
    run = cancel_run(settings, tenant, run_id)
    if run.status == "processing" and run.run_mode == "batch":
        with suppress(ConflictError):  # it ended meanwhile
            if wait:
                with BarProgress(enabled=None if fmt == "table" else False) as progress:
                    dispatch.run_inline(settings, run_id, progress)
            else:
                dispatch.poll_batch_runs(settings, run_id)  # the provider cancels now, not at the next poll
    elif run.status == "processing" and wait:
        while runs.get_run(settings, tenant, run_id).status == "processing":
            time.sleep(settings.eval_heartbeat_s / 2)
    detail = runs.get_run(settings, tenant, run_id)
    render(detail, fmt)
    if detail.status != "cancelled":
        err.print(f"run {run_id} is stopping; it ends `cancelled` once stopped (`lse eval show {run_id}`)")
