"""`lse eval resume`: finish runs a dead worker left behind, here and now.

Fast runs left `processing` are executed here (no finished call repeated). Batch runs get one
step each (as `lse eval poll`); a named batch run is stepped here until it ends.
"""

from __future__ import annotations

import typer

from lse.cli.console import BarProgress, err, print_json
from lse.cli.eval import app
from lse.cli.eval.poll import describe
from lse.errors import PartialResult
from lse.evals.liveness import MIN_STALE_AFTER_S
from lse.settings import load_settings


@app.command("resume")
def resume(
    run_id: int | None = typer.Argument(None, help="One run to resume (default: every stale one)."),
    stale_after: float | None = typer.Option(
        None,
        "--stale-after",
        min=MIN_STALE_AFTER_S,
        help="Seconds without a heartbeat after which a processing run counts as abandoned "
        f"(default LSE_EVAL_STALE_AFTER_S, 60; at least {MIN_STALE_AFTER_S:g}).",
    ),
    wait: bool = typer.Option(
        False, "--wait", help="With RUN_ID held by a live-looking worker: wait until it goes stale, then take it over."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcomes as JSON on stdout."),
) -> None:
    """Resume runs left behind: fast runs a dead worker left processing (finished items are never
    called again), and batch runs (one step each; a named one is stepped here until it ends).

    A fast run whose worker still beats is left alone, and the command says when it will be
    taken over, and by whom, if that worker is gone."""
    from lse.worker import dispatch  # the engine pulls in the OpenAI SDK: load on use only

    settings = load_settings()
    stale = stale_after if stale_after is not None else settings.eval_stale_after_s
    with BarProgress(enabled=None if not as_json else False) as progress:
        outcomes = dispatch.resume_runs(settings, run_id=run_id, stale_after_s=stale, wait=wait, progress=progress)
    batch_steps = [] if run_id is not None else dispatch.poll_batch_runs(settings)
    outcomes += [s.outcome for s in batch_steps if s.outcome is not None]
    waiting = [s for s in batch_steps if s.outcome is None]
    held = [] if run_id is not None else dispatch.live_runs(settings)
    if as_json:
        print_json(
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
    else:
        if not outcomes and not waiting:
            err.print("no runs to resume")
        for o in outcomes:
            err.print(
                f"run {o.run_id}: {o.status} ({o.succeeded} succeeded, {o.failed} failed)"
                + (f" — {o.error_message}" if o.error_message else "")
            )
        for step in waiting:
            err.print(describe(step), markup=False)
        for rid in held:
            err.print(dispatch.takeover_notice(settings, rid, stale))
    if any(o.status == "failed" for o in outcomes):
        raise PartialResult("some resumed runs failed; see `lse eval show`")
