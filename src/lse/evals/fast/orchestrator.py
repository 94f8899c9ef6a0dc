"""One fast run, start to end, as named stages:

    prepare → call → collect → gate → embed → score → cost → finish

`call` and `collect` are the fast mode's own (`responses_stage`); the others come from
`lse.evals.pipeline` and are what a batch run reuses. Each stage persists its result
before it is recorded done (item rows as calls end; a unit in object storage, then its
`evaluation_jobs` row), so a retry skips every recorded stage and calls the provider for
nothing already finished. A heartbeat thread keeps `heartbeat_at` fresh; a run whose
heartbeat goes stale was left by a dead worker and is claimed again by whoever watches
(`lse serve`, `lse worker`, `lse eval resume`). The same beat notices a user's cancel:
the workers stop between calls, and the run ends `cancelled` with the items it finished.
"""

from __future__ import annotations

import logging
import threading

from lse.errors import LseError
from lse.evals.fast.responses_stage import responses_stage
from lse.evals.liveness import check_stale_after
from lse.evals.pipeline.caller import CANCELLED_BY_USER, StopSignal
from lse.evals.pipeline.context import FAST, RunContext, prepare
from lse.evals.pipeline.cost import run_cost, stage_cost
from lse.evals.pipeline.heartbeat import Heartbeat
from lse.evals.pipeline.records import ItemOutcome, total_usage
from lse.evals.pipeline.repository import RunRepository
from lse.evals.pipeline.stages import RunOutcome, embed_and_score, end_unfinished, failure_gate, finish
from lse.evals.pipeline.status import RunStatus
from lse.progress import NullProgress, Progress
from lse.providers.responses import warm_up
from lse.settings import Settings
from lse.store.engine import get_engine

log = logging.getLogger(__name__)


def execute_run(
    settings: Settings,
    run_id: int,
    progress: Progress | None = None,
    *,
    stale_after_s: float | None = None,
) -> RunOutcome | None:
    """Run (or resume) fast run `run_id`; None if another live worker holds it or it is finished.

    `stale_after_s` (default `LSE_EVAL_STALE_AFTER_S`): how old a processing run's heartbeat
    must be for this call to take it over."""
    stale = check_stale_after(
        stale_after_s if stale_after_s is not None else settings.eval_stale_after_s, settings.eval_heartbeat_s
    )
    repo = RunRepository(get_engine(settings), heartbeat_s=settings.eval_heartbeat_s)
    if not repo.claim(run_id, stale_after_s=stale):
        return None
    stop = StopSignal()  # a user's cancel, seen by the heartbeat, stops the workers between calls
    with Heartbeat(repo, run_id, settings.eval_heartbeat_s, on_cancel=stop.cancel):
        try:
            return _execute(prepare(settings, repo, run_id, progress or NullProgress(), FAST, stop=stop))
        except Exception as exc:
            message = str(exc) if isinstance(exc, LseError) else f"internal error: {type(exc).__name__}: {exc}"
            log.exception("fast run %s failed", run_id)
            try:  # counted over the items that have a result: the others were never reached
                stored = repo.item_records(run_id)
                ok = sum(o.succeeded for o in stored.values())
                repo.finish(
                    run_id,
                    status=RunStatus.FAILED,
                    succeeded=ok,
                    failed=len(stored) - ok,
                    score=None,
                    cost=None,
                    error_message=message,
                )
            except Exception:
                log.exception("could not mark run %s failed", run_id)
            raise


def _execute(ctx: RunContext) -> RunOutcome:
    if ctx.refusal:
        return finish(ctx, RunStatus.FAILED, message=ctx.refusal)
    if ctx.repo.cancel_requested(ctx.run_id):  # cancelled before this worker took the run
        ctx.stop.cancel()
        return _cancelled(ctx, None)
    threading.Thread(target=warm_up, name="lse-sdk-warm-up", daemon=True).start()

    responses = responses_stage(ctx)  # call → collect
    outcomes = responses.outcomes
    if responses.stopped:
        return _cancelled(ctx, None) if ctx.stop.cancelled else _stopped(ctx, outcomes, responses.cost)
    refusal = failure_gate(ctx, outcomes)
    if refusal:
        return finish(ctx, RunStatus.FAILED, outcomes, cost=run_cost(responses.cost, None), message=refusal)

    scored = embed_and_score(ctx, outcomes)  # embed → score
    cost = run_cost(responses.cost, scored.cost)
    if scored.stopped and ctx.stop.cancelled:
        return _cancelled(ctx, scored.cost)
    if scored.stopped:
        return finish(ctx, RunStatus.FAILED, outcomes, cost=cost, message=scored.stopped)
    return finish(ctx, RunStatus.COMPLETED, outcomes, score=scored.summary, cost=cost)


def _stopped(ctx: RunContext, outcomes: dict[int, ItemOutcome], cost: dict) -> RunOutcome:
    """The run was stopped (quota, key): every item never called ends failed with the reason."""
    stop = ctx.stop
    reason = stop.message or "the provider refused every call"
    code = (stop.decision.code if stop.decision else None) or "run_stopped"
    outcomes = end_unfinished(ctx, f"not attempted: the run was stopped ({reason})", code)
    return finish(ctx, RunStatus.FAILED, outcomes, cost=run_cost(cost, None), message=f"run stopped: {reason}")


def _cancelled(ctx: RunContext, embeddings_cost: dict | None) -> RunOutcome:
    """A user's cancel: finished items are kept (never scored: the run stopped), the others
    end failed saying so, and the cost is what was spent."""
    outcomes = end_unfinished(ctx, "not attempted: the run was cancelled", "run_cancelled")
    spent = stage_cost(ctx.plan.model, total_usage(list(outcomes.values())))
    cost = run_cost(spent, embeddings_cost)
    return finish(ctx, RunStatus.CANCELLED, outcomes, cost=cost, message=CANCELLED_BY_USER)
