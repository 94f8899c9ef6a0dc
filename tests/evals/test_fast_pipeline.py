"""The fast pipeline end to end: real SDK, sandbox server, SQLite, local object store.

Assertions are on stored state (runs, item results, jobs, units) and on what crossed the
wire (the sandbox's request counts, inputs and embeddings batch sizes).
"""

from __future__ import annotations

import json
import time

import pytest

from helpers.fast_eval import fast_settings, item_rows, job_rows, make_fast_run, run_dataset_id, run_row
from lse.evals.fast import execute_run
from lse.evals.pipeline.embedding_cache import dataset_cache_key
from lse.objects import object_store

MARK = "[[bad-request]]"


def test_happy_path_stores_results_units_jobs_score_and_cost(fs, openai_sandbox) -> None:
    run_id = make_fast_run(fs, 12)
    out = execute_run(fs, run_id)
    assert out.status == "completed" and out.succeeded == 12 and out.failed == 0
    run = run_row(fs, run_id)
    assert run.status == "completed" and run.items_succeeded == 12 and run.completed_at is not None
    summary = run.score["summary_scores"][0]
    assert summary["name"] == "cosine_similarity" and summary["total_pairs"] == 12
    assert -1 <= summary["avg"] <= 1 and summary["std"] >= 0
    rows = item_rows(fs, run_id)
    assert all(r.status == "succeeded" and r.score_status == "scored" and r.attempts == 1 for r in rows)
    assert all(r.output and r.response_id and r.input_tokens > 0 for r in rows)
    # one Responses call per item, embeddings batched: one request with every output and answer
    assert openai_sandbox.stats.requests_by_endpoint == {"responses": 12, "embeddings": 1}
    assert openai_sandbox.stats.embeddings_batches == [24]
    # stage units written, then the jobs recorded with usage and cost
    jobs = job_rows(fs, run_id)
    assert set(jobs) == {"evaluation_fast", "embedding_fast"}
    store = object_store(fs)
    unit = json.loads(store.get_bytes(f"fast-eval/runs/{run_id}/evaluation_fast.json"))
    assert unit["format_version"] == 1 and unit["succeeded"] == 12 and len(unit["items"]) == 12
    assert jobs["evaluation_fast"].usage["input_tokens"] == sum(r.input_tokens for r in rows)
    cost = run.cost
    assert cost["pricing"] == "synchronous"
    assert cost["total_cost_usd"] == pytest.approx(cost["responses"]["cost_usd"] + cost["embeddings"]["cost_usd"])
    assert cost["responses"]["cost_usd"] > 0


def test_an_answer_cut_at_the_token_cap_is_a_failed_item_with_its_partial_text(settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox, eval_fast_failure_threshold=0.5)
    long_q = "Explain in detail how a modern CPU pipeline handles branch mispredictions. " * 4
    run_id = make_fast_run(
        fs, ["What is 2+2?", long_q, "What is 3+3?"], params={"model": "gpt-4o-mini", "max_output_tokens": 16}
    )
    out = execute_run(fs, run_id)
    assert (out.status, out.succeeded, out.failed) == ("completed", 2, 1)
    cut = next(r for r in item_rows(fs, run_id) if r.status == "failed")
    assert cut.error_code == "response_incomplete" and cut.error == "response incomplete: max_output_tokens"
    assert cut.output.startswith("Explain in detail") and cut.score_status == "not_scored" and cut.score is None
    assert run_row(fs, run_id).score["summary_scores"][0]["total_pairs"] == 2


def test_ground_truth_embeddings_are_cached_per_dataset(fs, openai_sandbox) -> None:
    first = make_fast_run(fs, 6)
    execute_run(fs, first)
    assert openai_sandbox.stats.embeddings_batches == [12]
    assert object_store(fs).exists(dataset_cache_key(run_dataset_id(fs, first), fs.eval_embedding_model))
    second = make_fast_run(fs, 6, dataset_id=run_dataset_id(fs, first))
    execute_run(fs, second)
    # the second run pays only for its own outputs; ground truths come from the dataset cache
    assert openai_sandbox.stats.embeddings_batches == [12, 6]
    assert run_row(fs, second).score == run_row(fs, first).score


def test_permanent_error_fails_the_item_at_once_with_the_provider_message(fs, openai_sandbox) -> None:
    qs = [f"q{i}" for i in range(6)]
    qs[2] = f"q2 {MARK}"
    run_id = make_fast_run(fs, qs)
    out = execute_run(fs, run_id)
    assert out.status == "completed" and out.failed == 1
    bad = next(r for r in item_rows(fs, run_id) if r.status == "failed")
    assert bad.attempts == 1 and "400" in bad.error and "Invalid input" in bad.error
    assert bad.score is None and bad.score_status == "not_scored"
    assert openai_sandbox.stats.responses_inputs.count(qs[2]) == 1
    assert run_row(fs, run_id).score["summary_scores"][0]["total_pairs"] == 5


@pytest.mark.parametrize("fault", ["server_error", "timeout", "rate_limit"])
def test_transient_errors_are_retried_and_counted_once_per_attempt(fault, settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox, eval_fast_call_timeout_s=0.5, eval_fast_api_concurrency=3)
    if fault == "server_error":
        openai_sandbox.faults.server_error_next = 3
    elif fault == "timeout":
        openai_sandbox.faults.timeout_next = 2
        openai_sandbox.faults.hang_s = 3.0
    else:
        openai_sandbox.faults.rate_limit_next = 3
        openai_sandbox.faults.rate_limit_retry_after_ms = 100
    run_id = make_fast_run(fs, 8)
    out = execute_run(fs, run_id)
    assert out.status == "completed" and out.failed == 0
    rows = item_rows(fs, run_id)
    extra = {"server_error": 3, "timeout": 2, "rate_limit": 3}[fault]
    assert sum(r.attempts for r in rows) == 8 + extra
    assert openai_sandbox.stats.requests_by_endpoint["responses"] == 8 + extra


def test_exhausted_retries_fail_the_item_with_the_reason(settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox, eval_fast_max_attempts=2, eval_fast_api_concurrency=1)
    openai_sandbox.faults.server_error_next = 2
    run_id = make_fast_run(fs, 4)
    out = execute_run(fs, run_id)
    assert out.status == "completed" and out.failed == 1
    bad = next(r for r in item_rows(fs, run_id) if r.status == "failed")
    assert bad.attempts == 2 and "500" in bad.error and "gave up after 2 attempts" in bad.error


@pytest.mark.parametrize("fault", ["insufficient_quota", "bad_key"])
def test_quota_and_auth_stop_the_whole_run_at_once(fault, settings, openai_sandbox) -> None:
    from pydantic import SecretStr

    fs = fast_settings(settings, openai_sandbox, eval_fast_api_concurrency=2)
    if fault == "insufficient_quota":
        openai_sandbox.faults.insufficient_quota = True
    else:
        fs = fs.model_copy(update={"openai_api_key": SecretStr("sk-wrong")})
    run_id = make_fast_run(fs, 20)
    out = execute_run(fs, run_id)
    assert out.status == "failed" and "run stopped" in out.error_message
    run = run_row(fs, run_id)
    assert run.status == "failed" and run.error_message.startswith("run stopped")
    # at most the calls already in flight were made; every item ends failed with a reason
    assert openai_sandbox.stats.requests_by_endpoint.get("responses", 0) <= 2
    rows = item_rows(fs, run_id)
    assert len(rows) == 20 and all(r.status == "failed" and r.error for r in rows)
    assert run.items_failed == 20


@pytest.mark.parametrize(("bad", "status"), [(6, "failed"), (5, "completed")])
def test_failure_threshold(bad, status, fs, openai_sandbox) -> None:
    qs = [f"q{i} {MARK}" if i < bad else f"q{i}" for i in range(10)]
    run_id = make_fast_run(fs, qs)
    out = execute_run(fs, run_id)
    run = run_row(fs, run_id)
    assert run.status == status and out.failed == bad
    if status == "failed":
        assert "6 of 10 items failed (60%)" in run.error_message and "Invalid input" in run.error_message
        assert "embeddings" not in openai_sandbox.stats.requests_by_endpoint
        assert run.cost["responses"]["usage"]["requests"] >= 4
    else:
        assert run.error_message is None


def test_not_scored_is_its_own_state(fs) -> None:
    run_id = make_fast_run(fs, ["a", "b", "c"], answers=["first", "", "third"])
    execute_run(fs, run_id)
    rows = {r.item_id: r for r in item_rows(fs, run_id)}
    empty = [r for r in rows.values() if r.score_status == "not_scored"]
    assert len(empty) == 1 and empty[0].score is None and "empty ground truth" in empty[0].error
    summary = run_row(fs, run_id).score["summary_scores"][0]
    assert summary["total_pairs"] == 2 and summary["not_scored"] == 1


def test_peak_in_flight_never_exceeds_the_bound(settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox, eval_fast_api_concurrency=4)
    openai_sandbox.faults.responses_latency_ms = 80
    run_id = make_fast_run(fs, 24)
    execute_run(fs, run_id)
    assert openai_sandbox.stats.peak_in_flight == 4


@pytest.mark.parametrize("limit", ["max_concurrency", "rate_limit_rpm"])
def test_rate_adaptation_gives_zero_failed_items(limit, settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox, eval_fast_api_concurrency=10, retry_max_wait_s=1.0)
    if limit == "max_concurrency":
        openai_sandbox.faults.max_concurrency = 3
        openai_sandbox.faults.responses_latency_ms = 100
    else:
        openai_sandbox.faults.rate_limit_rpm = 25 * 60
        openai_sandbox.faults.rate_limit_quantum_s = 0.04  # stricter than OpenAI: a burst of one
    run_id = make_fast_run(fs, 40)
    t0 = time.monotonic()
    out = execute_run(fs, run_id)
    elapsed = time.monotonic() - t0
    assert out.status == "completed" and out.failed == 0
    statuses = openai_sandbox.stats.status_counts
    assert statuses.get(429, 0) < 40  # the run backed off instead of storming the limit
    if limit == "max_concurrency":
        assert statuses.get(429, 0) > 0 and openai_sandbox.stats.peak_in_flight <= 3
    else:  # paced from the rate-limit headers: ~25 rps, never faster
        assert out.calls["responses"]["rate"] is not None
        assert elapsed >= 39 / 25 * 0.9


def test_runs_and_resumes_on_both_databases(db_settings, openai_sandbox) -> None:
    """Claiming (compare-and-set on heartbeat_at), results and jobs on SQLite and PostgreSQL."""
    from datetime import timedelta

    from sqlalchemy import update

    from lse.store.engine import get_engine, unit_of_work
    from lse.store.models.evaluation import EvaluationRun, utcnow

    fs = fast_settings(db_settings, openai_sandbox)
    run_id = make_fast_run(fs, 5)
    with unit_of_work(get_engine(fs)) as s:  # a live worker holds it: not claimable
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == run_id).values(status="processing", heartbeat_at=utcnow())
        )
    assert execute_run(fs, run_id) is None
    with unit_of_work(get_engine(fs)) as s:  # its worker died: claimable
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == run_id).values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
    out = execute_run(fs, run_id)
    assert out.status == "completed" and run_row(fs, run_id).items_succeeded == 5
    assert set(job_rows(fs, run_id)) == {"evaluation_fast", "embedding_fast"}


def test_one_bad_embedding_input_does_not_sink_its_batch(fs, openai_sandbox) -> None:
    answers = [f"answer {i}" for i in range(8)]
    answers[5] = f"answer 5 {MARK}"  # the embeddings endpoint rejects this text (400)
    run_id = make_fast_run(fs, [f"q{i}" for i in range(8)], answers=answers)
    out = execute_run(fs, run_id)
    assert out.status == "completed" and out.failed == 0
    rows = item_rows(fs, run_id)
    not_scored = [r for r in rows if r.score_status == "not_scored"]
    assert len(not_scored) == 1 and "400" in not_scored[0].error and not_scored[0].score is None
    assert sum(r.score_status == "scored" for r in rows) == 7
    batches = openai_sandbox.stats.embeddings_batches
    assert batches[0] == 16 and len(batches) <= 1 + 2 * 4  # bisection: log2(16) levels


def test_a_refusal_that_is_not_a_400_fails_the_embeddings_without_splitting(fs, openai_sandbox) -> None:
    """A 404 (here: a wrong endpoint path on the sandbox) is about the model or URL, not one input:
    no bisection (it used to cost ~2n calls) and no further batch is sent."""
    from lse.evals.pipeline.caller import Caller, StopSignal
    from lse.evals.pipeline.embed import embed
    from lse.evals.pipeline.embedding_cache import EmbeddingCache
    from lse.evals.pipeline.records import ItemOutcome, PlanItem
    from lse.evals.pipeline.score import score_items
    from lse.evals.pipeline.status import ItemStatus
    from lse.evals.rate import RateAdapter
    from lse.providers.client import openai_client
    from lse.providers.embeddings import create_embeddings

    n = 1100  # 2,200 distinct texts: two batches of at most 2,048
    items = [PlanItem(i, i, f"q{i}", f"answer {i}") for i in range(n)]
    records = {
        i: ItemOutcome(item_id=i, status=ItemStatus.SUCCEEDED, output=f"output {i}", attempts=1) for i in range(n)
    }
    client = openai_client(fs.model_copy(update={"openai_base_url": openai_sandbox.base_url + "/no-such-api"}))
    store = object_store(fs)
    gt_cache, out_cache = EmbeddingCache(store, "gt.npz"), EmbeddingCache(store, "out.npz")
    res = embed(
        items,
        records,
        embed_fn=lambda texts: create_embeddings(client, model="text-embedding-3-small", texts=texts),
        caller=Caller(RateAdapter(1), StopSignal(), max_attempts=3, max_wait_s=0.01),
        gt_cache=gt_cache,
        out_cache=out_cache,
        concurrency=1,
    )
    assert res.batches == 2 and res.requests == 1
    scores = score_items(res.pairs, res.unscorable, res.failures, gt_cache=gt_cache, out_cache=out_cache)
    assert len(scores) == n
    assert all(s.status == "not_scored" and "HTTP 404" in s.reason for s in scores.values())


def test_a_damaged_embedding_cache_is_rebuilt_and_says_so(fs, caplog) -> None:
    from lse.evals.pipeline.embedding_cache import EmbeddingCache

    store = object_store(fs)
    key = dataset_cache_key(1, "text-embedding-3-small")
    store.put_bytes(key, b"not an npz file", "application/octet-stream")
    with caplog.at_level("WARNING", logger="lse.evals.pipeline.embedding_cache"):
        cache = EmbeddingCache.load(store, key)
    assert cache.vectors == {}
    assert any(key in r.getMessage() and "rebuilt" in r.getMessage() for r in caplog.records)
