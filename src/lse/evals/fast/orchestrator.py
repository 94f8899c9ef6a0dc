"""One fast run, start to end, as named stages:

    prepare → call → collect → gate → embed → score → cost → finish

`call` and `collect` are the fast mode's own (`responses_stage`); the others come from
`lse.evals.pipeline` and are what a batch run reuses. Each stage persists its result
before it is recorded done (item rows as calls end; a unit in object storage, then its
`evaluation_jobs` row), so a retry skips every recorded stage and calls the provider for
nothing already finished. A heartbeat thread keeps `heartbeat_at` fresh; a run whose
heartbeat goes stale was left by a dead worker and is claimed again by whoever watches
(`lse serve`, `lse worker`, `lse eval resume`).
"""

from __future__ import annotations

import logging
import threading
from typing import Self

from lse.errors import LseError
from lse.evals.fast.responses_stage import responses_stage
from lse.evals.liveness import check_stale_after
from lse.evals.pipeline.context import FAST, RunContext, prepare
from lse.evals.pipeline.cost import run_cost
from lse.evals.pipeline.records import ItemOutcome
from lse.evals.pipeline.repository import RunRepository
from lse.evals.pipeline.stages import RunOutcome, embed_and_score, failure_gate, finish
from lse.evals.pipeline.status import RunStatus
from lse.progress import NullProgress, Progress
from lse.providers.responses import warm_up
from lse.settings import Settings
from lse.store.engine import get_engine

log = logging.getLogger(__name__)


class _Heartbeat:
    def __init__(self, repo: RunRepository, run_id: int, every_s: float):
        self._repo, self._run_id, self._every = repo, run_id, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lse-heartbeat-{run_id}", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._repo.heartbeat(self._run_id)
            except Exception:
                log.warning("heartbeat for run %s failed", self._run_id, exc_info=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


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
    with _Heartbeat(repo, run_id, settings.eval_heartbeat_s):
        try:
            return _execute(prepare(settings, repo, run_id, progress or NullProgress(), FAST))
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
    threading.Thread(target=warm_up, name="lse-sdk-warm-up", daemon=True).start()

    responses = responses_stage(ctx)  # call → collect
    outcomes = responses.outcomes
    if responses.stopped:
        return _stopped(ctx, outcomes, responses.cost)
    refusal = failure_gate(ctx, outcomes)
    if refusal:
        return finish(ctx, RunStatus.FAILED, outcomes, cost=run_cost(responses.cost, None), message=refusal)

    scored = embed_and_score(ctx, outcomes)  # embed → score
    cost = run_cost(responses.cost, scored.cost)
    if scored.stopped:
        return finish(ctx, RunStatus.FAILED, outcomes, cost=cost, message=scored.stopped)
    return finish(ctx, RunStatus.COMPLETED, outcomes, score=scored.summary, cost=cost)


def _stopped(ctx: RunContext, outcomes: dict[int, ItemOutcome], cost: dict) -> RunOutcome:
    """The run was stopped (quota, key): every item never called ends failed with the reason."""
    stop = ctx.stop
    reason = stop.message or "the provider refused every call"
    code = (stop.decision.code if stop.decision else None) or "run_stopped"
    missing = [
        ItemOutcome.failed(i.item_id, f"not attempted: the run was stopped ({reason})", code)
        for i in ctx.plan.items
        if i.item_id not in outcomes
    ]
    ctx.repo.save_items(ctx.run_id, missing)
    outcomes.update({o.item_id: o for o in missing})
    return finish(ctx, RunStatus.FAILED, outcomes, cost=run_cost(cost, None), message=f"run stopped: {reason}")
