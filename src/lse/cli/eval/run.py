"""`lse eval run`: create a run and execute it here, with a progress bar.

A fast run is executed in this process. A batch run is stepped here (submitted, polled,
collected, scored) until it ends; `--no-wait` submits it and returns, leaving the later
steps to a running `lse serve` or `lse worker`, or to `lse eval poll` from cron. Ctrl-C
while waiting leaves the batch run going: its batches live on at the provider.
"""

from __future__ import annotations

import uuid

import typer

from lse.cli.console import BarProgress, err
from lse.cli.eval import app
from lse.cli.eval.show import FORMATS, render
from lse.cli.eval.tenant import OrgOption, ProjectOption, tenant_for
from lse.errors import LseError, PartialResult, UsageError
from lse.evals.schemas import RunCreate, RunMode
from lse.settings import Settings, load_settings

RETRY_EXPORT = "`lse eval export {}` or a running `lse serve`/`lse worker` sends it again"
LATER = (
    "A running `lse serve` or `lse worker` finishes it, or `lse eval poll` (cron) or `lse eval resume RUN` "
    "here; `lse eval show RUN` shows its batches."
)


@app.command("run")
def run(
    dataset: int = typer.Option(..., "--dataset", help="Dataset id."),
    config: str = typer.Option(..., "--config", help="Config id (UUID)."),
    version: int = typer.Option(..., "--version", min=1, help="Config version."),
    name: str = typer.Option(..., "--name", help="Run (experiment) name, unique in the project."),
    mode: str = typer.Option(
        "fast", "--mode", help="fast (synchronous calls, small datasets) or batch (OpenAI Batch API, any size)."
    ),
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="Batch: step the run here until it ends, or only submit it and return."
    ),
    org: str = OrgOption,
    project: str = ProjectOption,
    fmt: str = typer.Option("table", "--format", help="How to print the result: table, json or csv."),
) -> None:
    """Create a run, execute it in this process and print the results."""
    from lse.evals import runs
    from lse.worker import dispatch  # the engines pull in the OpenAI SDK: load on use only

    if mode not in {m.value for m in RunMode}:
        raise typer.BadParameter("--mode must be fast or batch")
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    settings = load_settings()
    tenant = tenant_for(settings, org, project)
    try:
        body = RunCreate(
            experiment_name=name,
            dataset_id=dataset,
            config_id=uuid.UUID(config),
            config_version=version,
            run_mode=RunMode(mode),
        )
    except ValueError as exc:
        raise UsageError(f"invalid run: {exc}") from exc
    created = runs.create_run(settings, tenant, body, available_modes=dispatch.available_modes(settings))
    batch = mode == RunMode.batch.value
    try:
        if batch and not wait:  # its first step here: request files, upload, create
            failed = [s.note for s in dispatch.poll_batch_runs(settings, created.id) if s.action == "error"]
            if failed:
                err.print(f"run {created.id}: its first step failed and is tried again at the next: {failed[0]}")
        else:
            with BarProgress(enabled=None if fmt == "table" else False) as progress:
                dispatch.run_inline(settings, created.id, progress)
    except KeyboardInterrupt:
        runs.mark_failed(settings, created.id, "could not run: interrupted before it started")
        if batch and runs.get_run(settings, tenant, created.id).status == "processing":
            err.print(f"run {created.id} goes on: its batches are with the provider. {LATER}")
        raise
    except Exception as exc:
        runs.mark_failed(settings, created.id, f"could not run: {exc}")
        raise
    if runs.get_run(settings, tenant, created.id).status == "completed":  # as a worker exports the runs it completes
        _export(settings, created.id)
    detail = runs.get_run(settings, tenant, created.id, include_results=True)
    if batch and not wait:
        render(detail, fmt)
        err.print(f"run {created.id} is submitted. {LATER}")
        return
    render(detail, fmt)
    if detail.status == "failed":
        raise LseError(f"run {detail.id} failed: {detail.error_message or 'see lse eval show'}")
    if detail.progress.failed:
        raise PartialResult(f"run {detail.id} completed with {detail.progress.failed} failed item(s)")


def _export(settings: Settings, run_id: int) -> None:
    """Export a completed run to the configured tracing targets, as a worker does when it
    completes one; one line per target on stderr. A failed export fails nothing: it is
    recorded, and `lse serve`/`lse worker` or `lse eval export RUN` sends it again."""
    from lse.tracing import after_run_completed

    for o in after_run_completed(settings, run_id):  # nothing when no target is configured
        if o.error or o.skipped:
            line = f"{o.target} export {o.state}: {o.error or o.skipped} ({RETRY_EXPORT.format(run_id)})"
        elif o.state != "confirmed":
            line = f"sent to {o.target}, {o.pending} item(s) not yet visible ({RETRY_EXPORT.format(run_id)})"
        else:
            line = f"exported to {o.target}" + (f" ({o.location})" if o.location else "")
        err.print(f"run {run_id}: {line}", markup=False, highlight=False)  # target errors may hold brackets
