"""`lse eval resume`: finish fast runs a dead worker left `processing`, here and now."""

from __future__ import annotations

import json

import typer

from lse.cli.console import BarProgress, err
from lse.cli.eval import app
from lse.errors import PartialResult
from lse.evals.liveness import MIN_STALE_AFTER_S, STALE_AFTER_S
from lse.settings import load_settings


@app.command("resume")
def resume(
    run_id: int | None = typer.Argument(None, help="One run to resume (default: every stale one)."),
    stale_after: float = typer.Option(
        STALE_AFTER_S,
        "--stale-after",
        min=MIN_STALE_AFTER_S,
        help=f"Seconds without a heartbeat after which a processing run counts as abandoned (at least {MIN_STALE_AFTER_S:g}).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcomes as JSON on stdout."),
) -> None:
    """Resume fast runs left processing by a dead worker; finished items are never called again."""
    from lse.worker import dispatch  # the engine pulls in the OpenAI SDK: load on use only

    settings = load_settings()
    with BarProgress(enabled=None if not as_json else False) as progress:
        outcomes = dispatch.resume_runs(settings, run_id=run_id, stale_after_s=stale_after, progress=progress)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "run_id": o.run_id,
                        "status": o.status,
                        "succeeded": o.succeeded,
                        "failed": o.failed,
                        "error_message": o.error_message,
                        "skipped_stages": o.skipped_stages,
                    }
                    for o in outcomes
                ]
            )
        )
    else:
        if not outcomes:
            err.print("no fast runs to resume")
        for o in outcomes:
            err.print(
                f"run {o.run_id}: {o.status} ({o.succeeded} succeeded, {o.failed} failed)"
                + (f" — {o.error_message}" if o.error_message else "")
            )
    if any(o.status == "failed" for o in outcomes):
        raise PartialResult("some resumed runs failed; see `lse eval show`")
