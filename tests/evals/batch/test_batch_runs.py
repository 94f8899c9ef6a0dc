"""Whole batch runs through the pollers' entry point, one trap at a time: every item ends with
exactly one result, scores and cost come out, and the sandbox proves nothing ran twice.

The run is stepped as `lse serve`, `lse worker` and `lse eval poll` step it
(`advance_batch_runs`); the sandbox's batch clock and lse's clock move together.
"""

from __future__ import annotations

from helpers.batch_eval import MODEL, PARAMS, RunDriver, questions
from helpers.fast_eval import item_rows, job_rows, run_row
from lse.evals.runs import get_run
from lse.providers import batch_prices
from lse.providers.usage import Usage
from lse.sandbox.openai import compute_usage, sandbox_answer


def executed_once(driver: RunDriver) -> dict[str, int]:
    executed = driver.sandbox.batches.stats.lines_executed
    assert set(executed.values()) <= {1}, executed  # no request line ran twice
    return executed


def test_a_batch_run_ends_completed_with_scores_and_cost_at_batch_rates(driver: RunDriver) -> None:
    run_id = driver.new_run(6)
    end = driver.run_to_end(run_id)
    assert end.status == "completed" and end.outcome is not None
    run = run_row(driver.settings, run_id)
    assert (run.status, run.items_succeeded, run.items_failed, run.error_message) == ("completed", 6, 0, None)
    summary = run.score["summary_scores"][0]
    assert summary["name"] == "cosine_similarity" and summary["total_pairs"] == 6 and summary["avg"] is not None
    rows = item_rows(driver.settings, run_id)
    by_question = {r.item_id: r for r in rows}
    plan = dict(zip(sorted(by_question), questions(6), strict=True))
    for item_id, q in plan.items():  # the shuffled output file joined back by custom_id
        r = by_question[item_id]
        assert r.output == sandbox_answer(MODEL, PARAMS["instructions"], q)
        assert r.score_status == "scored" and r.attempts == 1 and r.latency_ms is None
    cost = run.cost
    assert cost["pricing"] == "batch" and cost["price_source"] == batch_prices.BATCH_PRICE_SOURCE
    assert cost["responses"]["pricing"] == "batch" and cost["embeddings"]["pricing"] == "synchronous"
    billed = Usage()
    for q in questions(6):
        u = compute_usage(MODEL, PARAMS["instructions"], q, sandbox_answer(MODEL, PARAMS["instructions"], q))
        billed.add(Usage(u.input_tokens, 0, u.output_tokens))
    assert cost["responses"]["cost_usd"] == batch_prices.batch_cost_usd(MODEL, billed)
    total = cost["responses"]["cost_usd"] + cost["embeddings"]["cost_usd"]
    assert cost["total_cost_usd"] == round(total, 10) and cost["total_cost_usd"] > 0
    assert set(job_rows(driver.settings, run_id)) == {"evaluation_batch", "embedding_batch"}
    stats = driver.sandbox.batches.stats
    assert (stats.files_uploaded, stats.batches_created, stats.content_downloads) == (1, 1, 1)
    assert len(executed_once(driver)) == 6
    detail = get_run(driver.settings, None, run_id)
    (batch,) = detail.batches or []
    assert (batch.round, batch.state, batch.provider_status) == (1, "collected", "completed")
    assert batch.request_counts == {"total": 6, "completed": 6, "failed": 0}
    assert batch.expires_at is not None and batch.provider_batch_id


def test_another_step_after_the_end_changes_nothing(driver: RunDriver) -> None:
    run_id = driver.new_run(3)
    driver.run_to_end(run_id)
    before = (run_row(driver.settings, run_id).completed_at, driver.sandbox.batches.stats.calls)
    again = driver.step(run_id)
    assert again.action == "busy" and again.status == "completed"  # a finished run cannot be claimed
    assert (run_row(driver.settings, run_id).completed_at, driver.sandbox.batches.stats.calls) == before


def test_partial_failure_retries_only_the_retryable_items_in_a_second_round(driver: RunDriver) -> None:
    qs = questions(6)
    qs[1] = "this one is [[bad-request]] for the provider"
    driver.sandbox.batches.faults.line_error_every = 3  # lines 3 and 6 of the first batch: HTTP 500
    run_id = driver.new_run(6, questions=qs)
    step = driver.step(run_id)
    assert step.action == "waiting"
    driver.sandbox.batches.faults.line_error_every = 0  # the second round's batch runs clean
    end = driver.run_to_end(run_id)
    assert end.status == "completed"
    rows = {r.item_id: r for r in item_rows(driver.settings, run_id)}
    ids = sorted(rows)
    assert [rows[i].status for i in ids] == ["succeeded", "failed", "succeeded", "succeeded", "succeeded", "succeeded"]
    assert [rows[i].attempts for i in ids] == [1, 1, 2, 1, 1, 2]  # the round each answer came from
    bad = rows[ids[1]]
    assert "HTTP 400" in (bad.error or "") and bad.score_status == "not_scored"
    rounds = [(b.round, b.n_requests) for b in get_run(driver.settings, None, run_id).batches or []]
    assert rounds == [(1, 6), (2, 2)]
    assert len(executed_once(driver)) == 8  # 6 in round 1, the 2 retried in round 2
    run = run_row(driver.settings, run_id)
    assert run.score["summary_scores"][0]["total_pairs"] == 5 and run.cost["total_cost_usd"] > 0


def test_an_error_line_with_error_null_and_400_is_a_failed_item_not_a_success(driver: RunDriver) -> None:
    driver.sandbox.batches.faults.line_error_every = 4
    driver.sandbox.batches.faults.line_error_status = 400
    run_id = driver.new_run(8)
    end = driver.run_to_end(run_id)
    assert end.status == "completed"  # 2 of 8 failed: under the failure threshold
    rows = sorted(item_rows(driver.settings, run_id), key=lambda r: r.item_id)
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 2 and all("HTTP 400" in (r.error or "") and r.output is None for r in failed)
    assert driver.sandbox.batches.stats.batches_created == 1  # a 400 is final: never sent again
    assert run_row(driver.settings, run_id).items_failed == 2


def test_completed_with_no_output_file_fails_the_run_with_the_reason(driver: RunDriver) -> None:
    driver.sandbox.batches.faults.all_fail = True
    run_id = driver.new_run(9)
    end = driver.run_to_end(run_id)
    run = run_row(driver.settings, run_id)
    assert end.status == run.status == "failed"
    assert "completed with 0 of 9 requests succeeded" in (run.error_message or "")
    assert (run.items_succeeded, run.items_failed, run.score) == (0, 9, None)
    assert driver.sandbox.batches.stats.batches_created == 1  # paying again would only fail again
    assert run.cost is not None and run.cost["pricing"] == "batch"


def test_an_expired_batch_keeps_its_paid_answers_and_sends_the_rest_again(driver: RunDriver) -> None:
    driver.sandbox.batches.faults.expire_after_lines = 2
    run_id = driver.new_run(5)
    driver.step(run_id)
    driver.sandbox.batches.faults.expire_after_lines = None  # round 2's batch runs to the end
    driver.pass_time(86_400 + 5)
    end = driver.run_to_end(run_id)
    assert end.status == "completed" and run_row(driver.settings, run_id).items_succeeded == 5
    batches = get_run(driver.settings, None, run_id).batches or []
    assert [(b.round, b.provider_status, b.n_requests) for b in batches] == [(1, "expired", 5), (2, "completed", 3)]
    rows = sorted(item_rows(driver.settings, run_id), key=lambda r: r.item_id)
    assert [r.attempts for r in rows] == [1, 1, 2, 2, 2]
    assert len(executed_once(driver)) == 5  # the two paid in round 1 were not paid again


def test_a_batch_failed_at_validation_fails_the_named_line_and_resends_the_rest(driver: RunDriver) -> None:
    driver.sandbox.batches.faults.validation_fail_lines = (2,)
    run_id = driver.new_run(3)
    driver.step(run_id)
    driver.sandbox.batches.faults.validation_fail_lines = ()
    end = driver.run_to_end(run_id)
    assert end.status == "completed"
    rows = sorted(item_rows(driver.settings, run_id), key=lambda r: r.item_id)
    assert [r.status for r in rows] == ["succeeded", "failed", "succeeded"]
    assert rows[1].error_code == "invalid_request" and "rejected at validation" in (rows[1].error or "")
    assert [b.n_requests for b in get_run(driver.settings, None, run_id).batches or []] == [3, 2]


def test_a_custom_id_in_neither_file_is_an_anomaly_and_goes_again(driver: RunDriver) -> None:
    f = driver.sandbox.batches.faults
    f.drop_lines, f.duplicate_lines, f.counts_wrong = 1, 1, True
    run_id = driver.new_run(5)
    driver.step(run_id)
    f.drop_lines, f.duplicate_lines, f.counts_wrong = 0, 0, False
    end = driver.run_to_end(run_id)
    assert end.status == "completed" and run_row(driver.settings, run_id).items_succeeded == 5
    first, second = get_run(driver.settings, None, run_id).batches or []
    kinds = {a["kind"] for a in first.anomalies}
    assert kinds == {"missing_results", "duplicate_results", "request_counts_mismatch", "usage_mismatch"}
    assert second.n_requests == 1 and second.anomalies == []
    executed = driver.sandbox.batches.stats.lines_executed
    assert sorted(executed.values()) == [1] * 6  # the dropped line ran (and was billed) once, then its retry


def test_retrieve_failing_several_times_never_fails_the_run(driver: RunDriver) -> None:
    run_id = driver.new_run(3)
    driver.step(run_id)
    driver.sandbox.batches.faults.retrieve_error_next = 4
    for _ in range(4):
        driver.pass_time(60)
        assert driver.step(run_id).status == "processing"
    (batch,) = get_run(driver.settings, None, run_id).batches or []
    assert batch.poll_failures >= 1 and "HTTP 500" in (batch.last_poll_error or "")
    end = driver.run_to_end(run_id, seconds=120)
    assert end.status == "completed" and driver.sandbox.batches.stats.retrieves >= 5


def test_incomplete_answers_fail_their_items_and_are_never_scored(driver: RunDriver) -> None:
    driver.sandbox.batches.faults.incomplete_every = 3
    run_id = driver.new_run(6)
    driver.run_to_end(run_id)
    rows = sorted(item_rows(driver.settings, run_id), key=lambda r: r.item_id)
    cut = [r for r in rows if r.status == "failed"]
    assert len(cut) == 2 and all(r.error_code == "response_incomplete" and r.output for r in cut)
    assert all(r.score is None and r.score_status == "not_scored" for r in cut)
    assert run_row(driver.settings, run_id).score["summary_scores"][0]["total_pairs"] == 4


def test_the_failure_threshold_fails_a_run_as_in_fast_mode(driver: RunDriver) -> None:
    driver.sandbox.batches.faults.line_error_every = 2
    driver.sandbox.batches.faults.line_error_status = 400
    run_id = driver.new_run(6)  # 3 of 6 fail: 50%
    driver.settings = driver.settings.model_copy(update={"eval_fast_failure_threshold": 0.4})
    end = driver.run_to_end(run_id)
    run = run_row(driver.settings, run_id)
    assert end.status == "failed" and "above the failure threshold 40%" in (run.error_message or "")
    assert run.cost["total_cost_usd"] is not None and run.score is None


def test_an_unpriced_model_has_a_null_cost_never_zero(driver: RunDriver) -> None:
    from sqlalchemy import update

    from lse.store.engine import get_engine, unit_of_work
    from lse.store.models.evaluation import ConfigVersion

    run_id = driver.new_run(2)
    with unit_of_work(get_engine(driver.settings)) as s:
        s.execute(
            update(ConfigVersion).values(
                config_blob={"completion": {"provider": "openai", "params": {**PARAMS, "model": "house-model-1"}}}
            )
        )
    driver.run_to_end(run_id)
    cost = run_row(driver.settings, run_id).cost
    assert cost["responses"]["cost_usd"] is None and cost["responses"]["priced"] is False
    assert cost["total_cost_usd"] is None and cost["pricing"] == "batch"


def test_a_download_that_fails_twice_is_retried_and_the_run_completes(driver: RunDriver) -> None:
    run_id = driver.new_run(3)
    driver.step(run_id)
    driver.sandbox.batches.faults.content_error_next = 2
    end = driver.run_to_end(run_id)
    assert end.status == "completed" and driver.sandbox.batches.stats.content_downloads == 3
    assert len(executed_once(driver)) == 3
