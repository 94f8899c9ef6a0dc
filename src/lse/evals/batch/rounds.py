"""Rounds of a batch run, and its end: what happens once no batch of the current round is live.

Applying round r (every batch of it collected or abandoned):
1. each batch's item results (recomputed from the stored result copies, the same every time)
   are saved; saving is insert-once, so applying a round again changes nothing;
2. a batch that says the run cannot succeed (first round completed without one success, a
   validation rejection naming no line, a key or quota refusal) ends the run `failed` with
   the reason; a user's cancel ends it `cancelled`. Items without a result end failed saying so;
3. items without a result that round r never carried (the run's first step, or a crash while
   round r was being prepared) are prepared into round r; the others go to round r + 1:
   expired, cancelled by the provider, retryable or missing requests. A round whose batch the
   provider refused for the enqueued-token limit (`token_limit_exceeded`) is not counted
   against `LSE_EVAL_BATCH_MAX_ROUNDS` (up to MAX_DEFERRED_ROUNDS times): its items wait
   `defer_s` and go in files half the refused one's size;
4. once every item has a result, `finish_run`: the responses unit and job row (cost at Batch
   API rates from what every line was billed), then the stages every mode shares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import openai

from lse.evals.batch.bodies import BodyFn
from lse.evals.batch.collect import CollectResult, collect_batch
from lse.evals.batch.config import BatchConfig
from lse.evals.batch.cost import batch_stage_cost, billed_usage
from lse.evals.batch.outcomes import TOKEN_LIMIT
from lse.evals.batch.prepare import RoundItem, prepare_round
from lse.evals.batch.repository import BatchRepository
from lse.evals.batch.run_rows import hold_batches
from lse.evals.batch.states import ABANDONED, NOT_YET_CREATED, STAGE_RESPONSES
from lse.evals.pipeline.caller import CANCELLED_BY_USER, StopSignal
from lse.evals.pipeline.context import BATCH, RunContext, prepare
from lse.evals.pipeline.cost import run_cost
from lse.evals.pipeline.repository import RunRepository
from lse.evals.pipeline.stages import (
    RunOutcome,
    embed_and_score,
    end_unfinished,
    failure_gate,
    finish,
    record_responses,
)
from lse.evals.pipeline.status import RunStatus, StageJob
from lse.objects import ObjectStore
from lse.progress import Progress
from lse.providers.batch_prices import BATCH_PRICING_TIER
from lse.settings import Settings
from lse.store.models.batches import EvaluationBatch

STOPPED_THE_RUN = "stopped the run: "  # an abandoned batch's outcome that fails its run
MAX_DEFERRED_ROUNDS = 5


@dataclass
class RoundContext:
    """What one step of one batch run works with."""

    settings: Settings
    runs: RunRepository
    batches: BatchRepository
    client: openai.OpenAI
    store: ObjectStore
    config: BatchConfig
    owner: str
    progress: Progress
    stop: StopSignal
    body_for: BodyFn
    now: Callable[[], datetime]
    run_id: int


def token_limited(row: EvaluationBatch) -> bool:
    """The provider failed the batch for the enqueued-token limit: later or smaller, not broken."""
    return row.provider_status == "failed" and any(
        isinstance(e, dict) and e.get("code") == TOKEN_LIMIT for e in (row.errors or [])
    )


def rounds_allowed(rows: Sequence[EvaluationBatch], round_: int, max_rounds: int) -> int:
    deferred = {row.round for row in rows if row.round <= round_ and token_limited(row)}
    return max_rounds + min(MAX_DEFERRED_ROUNDS, len(deferred))


def stop_the_run(rc: RoundContext, row: EvaluationBatch, message: str) -> None:
    """A submit the key or quota refused: abandon the batch, saying it fails the run."""
    at = rc.now()
    if not rc.batches.acquire(row.id, rc.owner, now=at, lease_s=rc.config.lease_s, states=NOT_YET_CREATED):
        return
    try:
        current = rc.batches.get(row.id)
        rc.batches.update(
            row.id,
            rc.owner,
            expect_state=current.state,
            state=ABANDONED,
            outcome=STOPPED_THE_RUN + message,
            cancel_requested_at=at,
            updated_at=at,
        )
    finally:
        rc.batches.release(row.id, rc.owner)


def _context(rc: RoundContext) -> RunContext:
    return prepare(rc.settings, rc.runs, rc.run_id, rc.progress, BATCH, stop=rc.stop)


def _spent(rc: RoundContext, ctx: RunContext) -> dict:
    usage = billed_usage(rc.batches, rc.run_id, STAGE_RESPONSES)
    return run_cost(batch_stage_cost(ctx.plan.model, usage), None, tier=BATCH_PRICING_TIER)


def _end(rc: RoundContext, ctx: RunContext, status: RunStatus, item_reason: str, code: str, message: str) -> RunOutcome:
    outcomes = end_unfinished(ctx, item_reason, code)
    return finish(ctx, status, outcomes, cost=_spent(rc, ctx), message=message)


def _fatal_of(row: EvaluationBatch) -> str | None:
    outcome = row.outcome or ""
    return outcome[len(STOPPED_THE_RUN) :] if row.state == ABANDONED and outcome.startswith(STOPPED_THE_RUN) else None


def apply_round(
    rc: RoundContext, rows: Sequence[EvaluationBatch], fresh: Mapping[int, CollectResult] | None = None
) -> RunOutcome | None:
    """Apply the current round (see the module docstring); the run's outcome if it ended,
    None if new batches were prepared. `fresh`: results collected during this step, used as
    they are when no deferral changed the rounds allowed (else recomputed: same files, same
    answer)."""
    ctx = _context(rc)
    if ctx.refusal:
        return _end(rc, ctx, RunStatus.FAILED, f"not sent: {ctx.refusal}", "run_refused", ctx.refusal)
    r = max((row.round for row in rows), default=1)
    allowed = rounds_allowed(rows, r, rc.config.max_rounds)
    config = replace(rc.config, max_rounds=allowed)
    fatal: str | None = None
    for row in rows:
        if row.round != r:
            continue
        got = (fresh or {}).get(row.id) if allowed == rc.config.max_rounds else None
        if got is None:
            got = collect_batch(rc.batches, rc.client, rc.store, row.id, owner=rc.owner, config=config, now=rc.now)
        rc.runs.save_items(rc.run_id, got.items)
        fatal = fatal or got.fatal or _fatal_of(row)
    if fatal:
        return _end(rc, ctx, RunStatus.FAILED, f"not sent: the run failed ({fatal})", "run_failed", fatal)
    if rc.stop.cancelled:
        return _end(rc, ctx, RunStatus.CANCELLED, "not sent: the run was cancelled", "run_cancelled", CANCELLED_BY_USER)
    resolved = rc.runs.item_ids_with_results(rc.run_id)
    todo = [RoundItem(i.item_id, i.question) for i in ctx.plan.items if i.item_id not in resolved]
    if not todo:
        return finish_run(rc, ctx)
    in_round, _ = rc.batches.items_in_round(rc.run_id, STAGE_RESPONSES, r)
    missing = [i for i in todo if i.item_id not in in_round]
    limits = rc.config.limits
    hold_until: datetime | None = None
    if missing:
        target, items = r, missing
    elif r >= allowed:  # collecting fails items at the last round; a leftover here is a bug, said plainly
        rc.runs.fail_unfinished(rc.run_id, f"no result after {r} rounds", "batch_rounds_exhausted")
        return finish_run(rc, ctx)
    else:
        target, items = r + 1, todo
        limited = [row for row in rows if row.round == r and token_limited(row)]
        if limited:
            smallest = min(int(row.est_input_tokens) for row in limited)
            limits = replace(limits, split_tokens=max(1, smallest // 2))
            hold_until = rc.now() + timedelta(seconds=rc.config.defer_s)
    assert ctx.plan.model is not None  # no model is a refusal
    prepared = prepare_round(
        rc.batches,
        rc.store,
        run_id=rc.run_id,
        round_=target,
        model=ctx.plan.model,
        params=ctx.plan.params,
        items=items,
        limits=limits,
        body_for=rc.body_for,
        now=rc.now,
    )
    rc.runs.save_items(rc.run_id, prepared.rejected)
    if hold_until is not None:
        hold_batches(rc.batches.engine, prepared.batch_ids, hold_until)
    return None


def finish_run(rc: RoundContext, ctx: RunContext | None = None) -> RunOutcome:
    """Every item has its answer: the responses unit, then gate → embed → score → cost → finish."""
    ctx = ctx or _context(rc)
    if rc.stop.cancelled:
        return _end(rc, ctx, RunStatus.CANCELLED, "not sent: the run was cancelled", "run_cancelled", CANCELLED_BY_USER)
    outcomes = rc.runs.item_records(rc.run_id)
    done = rc.runs.job(rc.run_id, StageJob.BATCH_RESPONSES)
    if done is None:
        usage = billed_usage(rc.batches, rc.run_id, STAGE_RESPONSES)
        responses_cost = batch_stage_cost(ctx.plan.model, usage)
        record_responses(ctx, outcomes, responses_cost, usage)
    else:
        ctx.skipped.append("responses")
        responses_cost = done.cost or {}
    refusal = failure_gate(ctx, outcomes)
    if refusal:
        cost = run_cost(responses_cost, None, tier=BATCH_PRICING_TIER)
        return finish(ctx, RunStatus.FAILED, outcomes, cost=cost, message=refusal)
    scored = embed_and_score(ctx, outcomes)
    cost = run_cost(responses_cost, scored.cost, tier=BATCH_PRICING_TIER)
    if scored.stopped and rc.stop.cancelled:
        return finish(ctx, RunStatus.CANCELLED, outcomes, cost=cost, message=CANCELLED_BY_USER)
    if scored.stopped:
        return finish(ctx, RunStatus.FAILED, outcomes, cost=cost, message=scored.stopped)
    return finish(ctx, RunStatus.COMPLETED, outcomes, score=scored.summary, cost=cost)
