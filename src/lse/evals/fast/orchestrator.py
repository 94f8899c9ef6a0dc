"""One fast run, start to end: claim → responses → embeddings → score & cost → complete.

Each stage's result is written to object storage as one unit, and only then is the
stage's `evaluation_jobs` row (usage, cost, unit URL) recorded; a retry skips every stage
that has its row and calls the provider for nothing already finished. Item results are
saved as they arrive, so a run that dies half-way resumes with only the unfinished
items. A heartbeat thread keeps `heartbeat_at` fresh; a run whose heartbeat goes stale
was left by a dead worker and may be claimed again (worker start, `lse eval resume`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Self

from lse.errors import LseError
from lse.evals.fast.caller import Caller, StopSignal
from lse.evals.fast.cost import run_cost, stage_cost
from lse.evals.fast.embedding_cache import EmbeddingCache, dataset_cache_key, run_cache_key
from lse.evals.fast.embeddings_stage import run_embeddings
from lse.evals.fast.repository import (
    EMBEDDINGS_JOB,
    RESPONSES_JOB,
    FastRunRepository,
    ItemRecord,
    RunPlan,
)
from lse.evals.fast.responses_stage import run_responses
from lse.evals.fast.scoring import summarize
from lse.evals.fast.units import (
    EmbeddingsItem,
    EmbeddingsUnit,
    ResponsesItem,
    ResponsesUnit,
    embeddings_unit_key,
    responses_unit_key,
)
from lse.evals.liveness import HEARTBEAT_S, STALE_AFTER_S
from lse.evals.rate_adapter import RateAdapter
from lse.objects import object_store
from lse.progress import NullProgress, Progress
from lse.providers.client import openai_client
from lse.providers.embeddings import create_embeddings
from lse.providers.params import extra_params
from lse.providers.responses import create_response, warm_up
from lse.providers.usage import Usage
from lse.settings import Settings
from lse.store.engine import get_engine
from lse.tenancy.credentials import settings_for_run

log = logging.getLogger(__name__)


@dataclass
class FastRunOutcome:
    run_id: int
    status: str
    succeeded: int
    failed: int
    score: dict | None
    cost: dict | None
    error_message: str | None
    skipped_stages: list[str] = field(default_factory=list)
    calls: dict = field(default_factory=dict)


class _Heartbeat:
    def __init__(self, repo: FastRunRepository, run_id: int, every_s: float):
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
    stale_after_s: float = STALE_AFTER_S,
) -> FastRunOutcome | None:
    """Run (or resume) fast run `run_id`; None if another live worker holds it or it is finished."""
    repo = FastRunRepository(get_engine(settings))
    if not repo.claim(run_id, stale_after_s=stale_after_s):
        return None
    progress = progress or NullProgress()
    with _Heartbeat(repo, run_id, HEARTBEAT_S):
        try:
            return _execute(settings, repo, run_id, progress)
        except Exception as exc:
            message = str(exc) if isinstance(exc, LseError) else f"internal error: {type(exc).__name__}: {exc}"
            log.exception("fast run %s failed", run_id)
            try:
                records = repo.item_records(run_id)
                ok = sum(r.status == "succeeded" for r in records.values())
                repo.finish(
                    run_id,
                    status="failed",
                    succeeded=ok,
                    failed=len(records) - ok,
                    score=None,
                    cost=None,
                    error_message=message,
                )
            except Exception:
                log.exception("could not mark run %s failed", run_id)
            raise


def _usage_of(records: list[ItemRecord]) -> Usage:
    total = Usage()
    for r in records:
        total.add(Usage(r.input_tokens, r.cached_tokens, r.output_tokens, r.reasoning_tokens, requests=r.attempts))
    return total


def _counts(plan: RunPlan, records: dict[int, ItemRecord]) -> tuple[int, int]:
    ok = sum(1 for i in plan.items if (r := records.get(i.item_id)) is not None and r.status == "succeeded")
    return ok, len(plan.items) - ok


def _execute(settings: Settings, repo: FastRunRepository, run_id: int, progress: Progress) -> FastRunOutcome:
    plan = repo.load_plan(run_id)
    params = plan.params
    model = plan.model
    skipped: list[str] = []

    def fail(message: str, *, cost: dict | None = None, records: dict[int, ItemRecord] | None = None) -> FastRunOutcome:
        ok, bad = _counts(plan, records or repo.item_records(run_id))
        repo.finish(run_id, status="failed", succeeded=ok, failed=bad, score=None, cost=cost, error_message=message)
        progress.log(f"run {run_id} failed: {message}")
        return FastRunOutcome(run_id, "failed", ok, bad, None, cost, message, skipped)

    if (plan.completion.get("provider") or "openai") != "openai":
        return fail(f"provider {plan.completion.get('provider')!r} has no fast engine; only 'openai'")
    if not model:
        return fail("the config version has no completion.params.model: add one in a new config version")
    if not plan.items:
        return fail(f"dataset {plan.dataset_id} has no items")

    client = openai_client(settings_for_run(settings, run_id))  # the project's own key if it stored one
    allowed = extra_params(settings.eval_extra_response_params)
    threading.Thread(target=warm_up, name="lse-sdk-warm-up", daemon=True).start()
    store = object_store(settings)
    timeout = settings.eval_fast_call_timeout_s
    concurrency = settings.eval_fast_api_concurrency
    stop = StopSignal()

    def caller() -> Caller:
        adapter = RateAdapter(concurrency, max_pause_s=settings.retry_max_wait_s)
        return Caller(adapter, stop, max_attempts=settings.eval_fast_max_attempts, max_wait_s=settings.retry_max_wait_s)

    calls: dict = {}
    # --- stage 1: responses ----------------------------------------------------------------
    job1 = repo.job(run_id, RESPONSES_JOB)
    records = repo.item_records(run_id)
    if job1 is None:
        todo = [i for i in plan.items if i.item_id not in records]
        progress.start(len(plan.items), "responses")
        if len(records):
            progress.update(len(records))
        c1 = caller()
        result = run_responses(
            todo,
            params=params,
            call=lambda p, q: create_response(client, params=p, input=q, timeout=timeout, extra_allowed=allowed),
            caller=c1,
            concurrency=concurrency,
            save=lambda recs: repo.save_items(run_id, recs),
            on_item=lambda rec: progress.update(1),
        )
        progress.complete()
        records.update(result.records)
        calls["responses"] = {"attempts": c1.attempts_made, "items_called": len(todo), **c1.adapter.snapshot()}
        usage1 = _usage_of([records[i.item_id] for i in plan.items if i.item_id in records])
        cost1 = stage_cost(model, usage1)
        if stop.is_set():
            reason = stop.message or "the provider refused every call"
            code = (stop.decision.code if stop.decision else None) or "run_stopped"
            missing = [
                ItemRecord(
                    i.item_id,
                    "failed",
                    None,
                    f"not attempted: the run was stopped ({reason})",
                    code[:64],
                    0,
                    0,
                    0,
                    0,
                    None,
                    0,
                    None,
                )
                for i in plan.items
                if i.item_id not in records
            ]
            repo.save_items(run_id, missing)
            records.update({r.item_id: r for r in missing})
            return fail(f"run stopped: {reason}", cost=run_cost(cost1, None), records=records)
        ok, bad = _counts(plan, records)
        unit = ResponsesUnit(
            run_id=run_id,
            status="completed",
            model=model,
            params=params,
            total_items=len(plan.items),
            succeeded=ok,
            failed=bad,
            usage=usage1.to_dict(),
            cost=cost1,
            items=[
                ResponsesItem(
                    item_id=r.item_id,
                    status=r.status,
                    output=r.output,
                    error=r.error,
                    error_code=r.error_code,
                    usage=Usage(r.input_tokens, r.cached_tokens, r.output_tokens, r.reasoning_tokens).to_dict(),
                    latency_ms=r.latency_ms,
                    attempts=r.attempts,
                    response_id=r.response_id,
                )
                for i in plan.items
                if (r := records.get(i.item_id)) is not None
            ],
        )
        url = store.put_bytes(responses_unit_key(run_id), unit.model_dump_json().encode(), "application/json")
        repo.record_job(run_id, RESPONSES_JOB, object_url=url, usage=usage1.to_dict(), cost=cost1)
    else:
        skipped.append("responses")
        cost1 = job1.cost or {}

    # --- failure threshold -----------------------------------------------------------------
    ok, bad = _counts(plan, records)
    share = bad / len(plan.items)
    threshold = settings.eval_fast_failure_threshold
    if share > threshold:
        first = next(
            (r.error for i in plan.items if (r := records.get(i.item_id)) and r.status != "succeeded" and r.error), None
        )
        message = (
            f"{bad} of {len(plan.items)} items failed ({share:.0%}), above the failure threshold "
            f"{threshold:.0%} (LSE_EVAL_FAST_FAILURE_THRESHOLD)" + (f"; first error: {first}" if first else "")
        )
        out = fail(message, cost=run_cost(cost1, None), records=records)
        out.calls = calls
        return out

    # --- stage 2: embeddings (+ per-item scores) ---------------------------------------------
    emb_model = settings.eval_embedding_model
    job2 = repo.job(run_id, EMBEDDINGS_JOB)
    if job2 is None:
        gt_cache = EmbeddingCache.load(store, dataset_cache_key(plan.dataset_id, emb_model))
        out_cache = EmbeddingCache.load(store, run_cache_key(run_id, emb_model))
        progress.start(None, "embeddings")
        c2 = caller()
        res2 = run_embeddings(
            plan.items,
            records,
            embed=lambda texts: create_embeddings(client, model=emb_model, texts=texts, timeout=timeout),
            caller=c2,
            gt_cache=gt_cache,
            out_cache=out_cache,
            concurrency=concurrency,
            on_batch=lambda: progress.update(1),
        )
        progress.complete()
        calls["embeddings"] = {
            "attempts": c2.attempts_made,
            "batches": res2.batches,
            "inputs_embedded": res2.inputs_embedded,
            "cache_hits": res2.cache_hits,
        }
        cost2 = stage_cost(emb_model, res2.usage)
        if res2.stopped:
            return fail(f"run stopped during embeddings: {stop.message}", cost=run_cost(cost1, cost2), records=records)
        repo.save_scores(run_id, {s.item_id: (s.score, s.status, s.reason) for s in res2.scores.values()})
        values = [s.score for s in res2.scores.values() if s.status == "scored" and s.score is not None]
        summary = summarize(values, not_scored=len(plan.items) - len(values), embedding_model=emb_model)
        unit2 = EmbeddingsUnit(
            run_id=run_id,
            status="completed",
            model=emb_model,
            requests=res2.requests,
            batches=res2.batches,
            inputs_embedded=res2.inputs_embedded,
            cache_hits=res2.cache_hits,
            scored=len(values),
            not_scored=len(plan.items) - len(values),
            usage=res2.usage.to_dict(),
            cost=cost2,
            summary=summary,
            items=[
                EmbeddingsItem(item_id=s.item_id, score=s.score, score_status=s.status, reason=s.reason)
                for s in res2.scores.values()
            ],
        )
        url2 = store.put_bytes(embeddings_unit_key(run_id), unit2.model_dump_json().encode(), "application/json")
        repo.record_job(run_id, EMBEDDINGS_JOB, object_url=url2, usage=res2.usage.to_dict(), cost=cost2)
    else:
        skipped.append("embeddings")
        cost2 = job2.cost or {}
        stored = repo.item_records(run_id)
        values = [r.score for r in stored.values() if r.score_status == "scored" and r.score is not None]
        summary = summarize(values, not_scored=len(plan.items) - len(values), embedding_model=emb_model)

    # --- stages 3 & 4: score, cost, complete ------------------------------------------------
    cost = run_cost(cost1, cost2)
    repo.finish(run_id, status="completed", succeeded=ok, failed=bad, score=summary, cost=cost, error_message=None)
    return FastRunOutcome(run_id, "completed", ok, bad, summary, cost, None, skipped, calls)
