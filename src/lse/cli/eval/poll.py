"""`lse eval poll`: one step for every batch run that needs one — for cron-style deployments.

A run deployment without `lse serve` or `lse worker` running all the time schedules this
every minute or so; it submits, polls, collects and finishes batch runs as they become due
and returns. Several at once are safe (claims on runs, leases on batches).
"""

from __future__ import annotations

import typer

from lse.cli.console import err, print_json
from lse.cli.eval import app
from lse.errors import PartialResult
from lse.settings import load_settings


def describe(step) -> str:
    """One line per run step: what happened and, for a run still waiting, its batches' states."""
    parts = [f"run {step.run_id}: {step.action} ({step.status})"]
    states = [f"batch {b.batch_id} {b.state}" for b in step.batch_steps]
    if states:
        parts.append(", ".join(states))
    if step.note:
        parts.append(step.note)
    return " — ".join(parts)


@app.command("poll")
def poll(
    run_id: int | None = typer.Option(None, "--run", help="Only this batch run (default: every one that is due)."),
    as_json: bool = typer.Option(False, "--json", help="Print one object per run stepped, as JSON on stdout."),
) -> None:
    """One step of every batch run that needs one (submit, poll, collect, score); for cron."""
    from lse.worker import dispatch  # the engines pull in the OpenAI SDK: load on use only

    settings = load_settings()
    steps = dispatch.poll_batch_runs(settings, run_id)
    if as_json:
        print_json(
            [
                {
                    "run_id": s.run_id,
                    "action": s.action,
                    "status": s.status,
                    "note": s.note,
                    "batches": [{"id": b.batch_id, "state": b.state, "note": b.note} for b in s.batch_steps],
                    "next_due_at": s.next_due_at,
                }
                for s in steps
            ]
        )
    else:
        if not steps:
            err.print("no batch run needs a step now")
        for s in steps:
            err.print(describe(s), markup=False)
    if any(s.action == "error" for s in steps):
        raise PartialResult("a step failed; the next poll tries again (see above)")
