"""The stages every run mode shares once it holds one `ItemOutcome` per item.

    record          outcomes → the responses unit, then the mode's job row     (the stage's "done")
    gate            outcomes → the failure-threshold refusal, or None          (nothing persisted)
    embed + score   outcomes → per-item scores + summary + stage cost          (vectors to the caches
                    per batch; scores to the item rows, then the unit, then the job row)
    cost            stage costs → the run's cost                               (pure)
    end unfinished  items without an outcome → failed ones saying why          (one INSERT ... SELECT)
    finish          status, counts, score, cost → the run row                  (the run's last write)

They never ask how the answers were obtained (synchronous Responses calls, the Batch API,
a file), so any mode reuses them and swaps only its call and collect stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lse.evals.pipeline.context import RunContext
from lse.evals.pipeline.cost import stage_cost
from lse.evals.pipeline.embed import embed
from lse.evals.pipeline.embedding_cache import EmbeddingCache, dataset_cache_key, run_cache_key
from lse.evals.pipeline.records import ItemOutcome, counts
from lse.evals.pipeline.score import score_items, summarize
from lse.evals.pipeline.status import RunStatus, ScoreStatus
from lse.evals.pipeline.units import EmbeddingsItem, EmbeddingsUnit, ResponsesItem, ResponsesUnit, unit_key
from lse.providers.embeddings import create_embeddings
from lse.providers.usage import Usage


@dataclass
class RunOutcome:
    run_id: int
    status: RunStatus
    succeeded: int
    failed: int
    score: dict | None
    cost: dict | None
    error_message: str | None
    skipped_stages: list[str] = field(default_factory=list)
    calls: dict = field(default_factory=dict)


@dataclass
class ScoreStageResult:
    summary: dict[str, Any] | None
    cost: dict[str, Any]
    stopped: str | None = None  # why the stage could not finish (the run was stopped)


def record_responses(ctx: RunContext, outcomes: dict[int, ItemOutcome], cost: dict[str, Any], usage: Usage) -> None:
    """The responses stage is done: its unit in object storage, then the mode's job row."""
    plan = ctx.plan
    ok, bad = counts(plan, outcomes)
    unit = ResponsesUnit(
        kind=ctx.names.responses_job.value,
        run_id=ctx.run_id,
        status=RunStatus.COMPLETED,
        model=plan.model,
        params=plan.params,
        total_items=len(plan.items),
        succeeded=ok,
        failed=bad,
        usage=usage.to_dict(),
        cost=cost,
        items=[
            ResponsesItem(
                item_id=o.item_id,
                status=o.status,
                output=o.output,
                error=o.error,
                error_code=o.error_code,
                usage=Usage(
                    o.usage.input_tokens, o.usage.cached_tokens, o.usage.output_tokens, o.usage.reasoning_tokens
                ).to_dict(),
                latency_ms=o.latency_ms,
                attempts=o.attempts,
                response_id=o.response_id,
            )
            for i in plan.items
            if (o := outcomes.get(i.item_id)) is not None
        ],
    )
    job = ctx.names.responses_job
    key = unit_key(ctx.names.unit_prefix, ctx.run_id, job)
    url = ctx.store.put_bytes(key, unit.model_dump_json().encode(), "application/json")
    ctx.repo.record_job(ctx.run_id, job, object_url=url, usage=usage.to_dict(), cost=cost)


def end_unfinished(ctx: RunContext, reason: str, code: str) -> dict[int, ItemOutcome]:
    """Every item without an outcome ends failed with `reason` (a stopped, cancelled or failed
    run never leaves an item looking pending); every item's stored outcome afterwards."""
    ctx.repo.fail_unfinished(ctx.run_id, reason, code)
    return ctx.repo.item_records(ctx.run_id)


def failure_gate(ctx: RunContext, outcomes: dict[int, ItemOutcome]) -> str | None:
    """Why the run must fail here (too many failed items), or None to go on."""
    plan = ctx.plan
    _, bad = counts(plan, outcomes)
    share = bad / len(plan.items)
    threshold = ctx.settings.eval_fast_failure_threshold
    if share <= threshold:
        return None
    first = next(
        (o.error for i in plan.items if (o := outcomes.get(i.item_id)) and not o.succeeded and o.error),
        None,
    )
    return (
        f"{bad} of {len(plan.items)} items failed ({share:.0%}), above the failure threshold "
        f"{threshold:.0%} (LSE_EVAL_FAST_FAILURE_THRESHOLD)" + (f"; first error: {first}" if first else "")
    )


def _stored_summary(ctx: RunContext, model: str) -> dict[str, Any]:
    stored = ctx.repo.item_records(ctx.run_id)
    values = [o.score for o in stored.values() if o.score_status is ScoreStatus.SCORED and o.score is not None]
    return summarize(values, not_scored=len(ctx.plan.items) - len(values), embedding_model=model)


def embed_and_score(ctx: RunContext, outcomes: dict[int, ItemOutcome]) -> ScoreStageResult:
    """Embed outputs and ground truths, score every item, persist; skipped when already done."""
    model = ctx.settings.eval_embedding_model
    job_type = ctx.names.embeddings_job
    done = ctx.repo.job(ctx.run_id, job_type)
    if done is not None:
        ctx.skipped.append("embeddings")
        return ScoreStageResult(_stored_summary(ctx, model), done.cost or {})
    plan, store = ctx.plan, ctx.store
    gt_cache = EmbeddingCache.load(store, dataset_cache_key(plan.dataset_id, model))
    out_cache = EmbeddingCache.load(store, run_cache_key(ctx.run_id, model))
    ctx.progress.start(None, "embeddings")
    caller = ctx.caller("embeddings")
    timeout = ctx.settings.eval_fast_call_timeout_s
    embedded = embed(
        plan.items,
        outcomes,
        embed_fn=lambda texts: create_embeddings(ctx.client, model=model, texts=texts, timeout=timeout),
        caller=caller,
        gt_cache=gt_cache,
        out_cache=out_cache,
        concurrency=ctx.settings.eval_fast_api_concurrency,
        on_batch=lambda: ctx.progress.update(1),
    )
    ctx.progress.complete()
    ctx.calls["embeddings"] = {
        "attempts": caller.attempts_made,
        "batches": embedded.batches,
        "inputs_embedded": embedded.inputs_embedded,
        "cache_hits": embedded.cache_hits,
    }
    cost = stage_cost(model, embedded.usage)
    if embedded.stopped:
        return ScoreStageResult(None, cost, stopped=f"run stopped during embeddings: {ctx.stop.message}")
    scores = score_items(embedded.pairs, embedded.unscorable, embedded.failures, gt_cache=gt_cache, out_cache=out_cache)
    ctx.repo.save_scores(ctx.run_id, scores)
    values = [s.score for s in scores.values() if s.status is ScoreStatus.SCORED and s.score is not None]
    summary = summarize(values, not_scored=len(plan.items) - len(values), embedding_model=model)
    unit = EmbeddingsUnit(
        kind=job_type.value,
        run_id=ctx.run_id,
        status=RunStatus.COMPLETED,
        model=model,
        requests=embedded.requests,
        batches=embedded.batches,
        inputs_embedded=embedded.inputs_embedded,
        cache_hits=embedded.cache_hits,
        scored=len(values),
        not_scored=len(plan.items) - len(values),
        usage=embedded.usage.to_dict(),
        cost=cost,
        summary=summary,
        items=[
            EmbeddingsItem(item_id=s.item_id, score=s.score, score_status=s.status, reason=s.reason)
            for s in scores.values()
        ],
    )
    key = unit_key(ctx.names.unit_prefix, ctx.run_id, job_type)
    url = store.put_bytes(key, unit.model_dump_json().encode(), "application/json")
    ctx.repo.record_job(ctx.run_id, job_type, object_url=url, usage=embedded.usage.to_dict(), cost=cost)
    return ScoreStageResult(summary, cost)


def finish(
    ctx: RunContext,
    status: RunStatus,
    outcomes: dict[int, ItemOutcome] | None = None,
    *,
    score: dict | None = None,
    cost: dict | None = None,
    message: str | None = None,
) -> RunOutcome:
    """Write the run's end (status, counts over the plan, score, cost) and report it."""
    ok, bad = counts(ctx.plan, outcomes if outcomes is not None else ctx.repo.item_records(ctx.run_id))
    ctx.repo.finish(ctx.run_id, status=status, succeeded=ok, failed=bad, score=score, cost=cost, error_message=message)
    if status in (RunStatus.FAILED, RunStatus.CANCELLED) and message:
        ctx.progress.log(f"run {ctx.run_id} {status.value}: {message}")
    return RunOutcome(ctx.run_id, status, ok, bad, score, cost, message, ctx.skipped, ctx.calls)
