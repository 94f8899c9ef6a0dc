"""`lse eval run`: create a fast run and execute it here, with a progress bar.

`--mode batch` is accepted by the parser so the service can refuse it with its own
"run mode batch is not available" error while no batch engine exists.
"""

from __future__ import annotations

import uuid

import typer

from lse.cli.console import BarProgress
from lse.cli.eval import app
from lse.cli.eval.show import FORMATS, render
from lse.cli.eval.tenant import OrgOption, ProjectOption, tenant_for
from lse.errors import LseError, PartialResult, UsageError
from lse.evals import runs
from lse.evals.schemas import RunCreate, RunMode
from lse.settings import load_settings


@app.command("run")
def run(
    dataset: int = typer.Option(..., "--dataset", help="Dataset id."),
    config: str = typer.Option(..., "--config", help="Config id (UUID)."),
    version: int = typer.Option(..., "--version", min=1, help="Config version."),
    name: str = typer.Option(..., "--name", help="Run (experiment) name, unique in the project."),
    mode: str = typer.Option("fast", "--mode", help="fast (run here, now); batch has no engine yet."),
    org: str = OrgOption,
    project: str = ProjectOption,
    fmt: str = typer.Option("table", "--format", help="How to print the result: table, json or csv."),
) -> None:
    """Create a run, execute it in this process and print the results."""
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
    try:
        with BarProgress(enabled=None if fmt == "table" else False) as progress:
            dispatch.run_inline(settings, created.id, progress)
    except (Exception, KeyboardInterrupt) as exc:
        runs.mark_failed(settings, created.id, f"could not run: {exc}")
        raise
    detail = runs.get_run(settings, tenant, created.id, include_results=True)
    render(detail, fmt)
    if detail.status == "failed":
        raise LseError(f"run {detail.id} failed: {detail.error_message or 'see lse eval show'}")
    if detail.progress.failed:
        raise PartialResult(f"run {detail.id} completed with {detail.progress.failed} failed item(s)")
