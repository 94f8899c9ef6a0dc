"""A provider batch from request file to item results, against the sandbox through the real SDK.

Assertions are on stored state (batch and request rows, object-store copies) and on what
crossed the wire (`sandbox.batches.stats`), never on mocks.
"""

from __future__ import annotations

import json

import pytest

from helpers.batch_eval import MODEL, PARAMS, BatchKit, questions, with_config
from lse.evals.batch.config import BatchLimits
from lse.evals.batch.cost import batch_stage_cost, billed_usage
from lse.evals.batch.objects_io import open_object
from lse.evals.batch.poll import poll_batch
from lse.evals.batch.prepare import RoundItem
from lse.evals.batch.states import COLLECTED, STAGE_RESPONSES, SUBMITTED, TERMINAL
from lse.providers.usage import Usage
from lse.sandbox.openai import compute_usage, sandbox_answer


def test_a_batch_goes_from_request_file_to_item_results(kit: BatchKit) -> None:
    run_id = kit.run(6)
    prepared = kit.prepare(run_id)
    (batch_id,) = prepared.batch_ids
    row = kit.repo.get(batch_id)
    assert (row.state, row.n_requests, row.round, row.part) == ("prepared", 6, 1, 1)
    with open_object(kit.store, row.request_key) as fh:
        lines = [json.loads(x) for x in fh]
    assert [x["custom_id"] for x in lines] == [f"lse-r{run_id}-i{i.item_id}-a1" for i in kit.items(run_id)]
    assert lines[0]["body"] == {**PARAMS, "input": questions(6)[0]}
    assert kit.sandbox.batches.stats.files_uploaded == 0  # nothing sent before the rows are on disk

    step = kit.step(batch_id)
    assert step.state == SUBMITTED and step.submitted is not None and not step.submitted.recovered
    row = kit.repo.get(batch_id)
    assert row.input_file_id and row.provider_batch_id and row.expires_at is not None
    (remote,) = kit.client.batches.list()
    assert remote.id == row.provider_batch_id and (remote.metadata or {})["lse_key"] == row.client_key

    result = kit.run_to_collected(batch_id)
    assert result.collected_now and result.fatal is None and result.retry == [] and result.anomalies == []
    assert result.provider_status == "completed"
    by_item = {r.item_id: r for r in result.items}
    assert len(by_item) == 6
    for item, q in zip(kit.items(run_id), questions(6), strict=True):
        rec = by_item[item.item_id]
        assert rec.status == "succeeded" and rec.error is None and rec.attempts == 1
        assert rec.output == sandbox_answer(MODEL, PARAMS["instructions"], q)
        usage = compute_usage(MODEL, PARAMS["instructions"], q, rec.output)
        assert (rec.input_tokens, rec.output_tokens) == (usage.input_tokens, usage.output_tokens)
        assert rec.response_id and rec.response_id.startswith("resp_")

    row = kit.repo.get(batch_id)
    assert row.state == COLLECTED and row.output_key and row.error_key is None and row.error_file_id is None
    assert kit.store.exists(row.output_key)
    assert {r.outcome for r in kit.repo.requests_of(batch_id)} == {"succeeded"}
    stats = kit.sandbox.batches.stats
    assert (stats.files_uploaded, stats.batches_created, stats.content_downloads) == (1, 1, 1)
    assert sorted(stats.lines_executed.values()) == [1] * 6

    billed = billed_usage(kit.repo, run_id, STAGE_RESPONSES)
    assert billed.input_tokens == sum(r.input_tokens for r in result.items) == result.usage.input_tokens
    assert row.usage is not None and row.usage["input_tokens"] == billed.input_tokens
    cost = batch_stage_cost(MODEL, billed)
    assert cost["pricing"] == "batch" and cost["cost_usd"] is not None and cost["cost_usd"] > 0


def test_collecting_twice_changes_nothing(kit: BatchKit) -> None:
    run_id = kit.run(4)
    (batch_id,) = kit.prepare(run_id).batch_ids
    first = kit.run_to_collected(batch_id)
    before = [(r.line_no, r.outcome, r.usage) for r in kit.repo.requests_of(batch_id)]
    row_before = kit.repo.get(batch_id)
    downloads = kit.sandbox.batches.stats.content_downloads
    again = kit.collect(batch_id)
    assert not again.collected_now
    assert again.items == first.items and again.retry == first.retry and again.anomalies == first.anomalies
    assert [(r.line_no, r.outcome, r.usage) for r in kit.repo.requests_of(batch_id)] == before
    assert kit.repo.get(batch_id).updated_at == row_before.updated_at
    assert kit.sandbox.batches.stats.content_downloads == downloads  # read from our copies


def test_preparing_again_sends_nothing_twice(kit: BatchKit) -> None:
    run_id = kit.run(5)
    first = kit.prepare(run_id)
    again = kit.prepare(run_id)
    assert again.batch_ids == [] and again.already_prepared == 5
    extra = RoundItem(kit.items(run_id)[0].item_id, "ignored: already in this round")
    assert kit.prepare(run_id, items=[extra]).batch_ids == []
    assert len(kit.repo.batches_of_run(run_id)) == len(first.batch_ids) == 1


def test_a_round_is_split_by_requests_bytes_and_tokens(kit: BatchKit) -> None:
    run_id = kit.run(7)
    kit.sandbox.batches.faults.max_requests = 3  # the provider would refuse a bigger file
    prepared = kit.prepare(run_id, limits=BatchLimits(max_requests=3))
    assert [kit.repo.get(b).n_requests for b in prepared.batch_ids] == [3, 3, 1]
    assert [kit.repo.get(b).part for b in prepared.batch_ids] == [1, 2, 3]
    results = [kit.run_to_collected(b) for b in prepared.batch_ids]
    assert sum(len(r.items) for r in results) == 7 and all(r.fatal is None for r in results)
    assert kit.sandbox.batches.stats.batches_created == 3

    run2 = kit.run(6)
    one_line = kit.repo.get(prepared.batch_ids[0]).request_bytes // 3
    by_bytes = kit.prepare(run2, limits=BatchLimits(max_bytes=2 * one_line + 10))
    assert [kit.repo.get(b).n_requests for b in by_bytes.batch_ids] == [2, 2, 2]
    run3 = kit.run(6)
    tokens = kit.repo.get(by_bytes.batch_ids[0]).est_input_tokens // 2
    by_tokens = kit.prepare(run3, limits=BatchLimits(max_tokens=3 * tokens + 3))
    assert [kit.repo.get(b).n_requests for b in by_tokens.batch_ids] == [3, 3]


def test_an_item_too_big_for_any_batch_is_a_failed_item_not_a_stuck_run(kit: BatchKit) -> None:
    run_id = kit.run(3, questions=["short question one", "word " * 400, "short question three"])
    prepared = kit.prepare(run_id, limits=BatchLimits(max_bytes=1000))
    (rejected,) = prepared.rejected
    assert rejected.status == "failed" and rejected.error_code == "request_too_large"
    assert "1,000-byte" in (rejected.error or "")
    assert sum(kit.repo.get(b).n_requests for b in prepared.batch_ids) == 2


def test_partial_failure_reads_both_files_and_sends_only_retryable_items_again(kit: BatchKit) -> None:
    kit = with_config(kit, max_rounds=2)
    qs = questions(6)
    qs[1] = "this one is [[bad-request]] for the provider"
    run_id = kit.run(6, questions=qs)
    items = kit.items(run_id)
    kit.sandbox.batches.faults.line_error_every = 3  # lines 3 and 6: HTTP 500
    (b1,) = kit.prepare(run_id).batch_ids
    r1 = kit.run_to_collected(b1)
    row = kit.repo.get(b1)
    assert row.output_key and row.error_key  # both files copied
    final = {r.item_id: r for r in r1.items}
    assert {i: final[i].status for i in final} == {
        items[0].item_id: "succeeded",
        items[1].item_id: "failed",
        items[3].item_id: "succeeded",
        items[4].item_id: "succeeded",
    }
    bad = final[items[1].item_id]
    assert (
        bad.error_code == "invalid_value" and "HTTP 400" in (bad.error or "") and "[[bad-request]]" in (bad.error or "")
    )
    assert sorted(r.item_id for r in r1.retry) == [items[2].item_id, items[5].item_id]
    assert {r.code for r in r1.retry} == {"server_error"}
    outcomes = {r.line_no: r.outcome for r in kit.repo.requests_of(b1)}
    assert outcomes == {1: "succeeded", 2: "failed", 3: "retry", 4: "succeeded", 5: "succeeded", 6: "retry"}

    kit.sandbox.batches.faults.line_error_every = 0
    retry_items = [RoundItem(i.item_id, i.question) for i in items if i.item_id in {r.item_id for r in r1.retry}]
    (b2,) = kit.prepare(run_id, round_=2, items=retry_items).batch_ids
    r2 = kit.run_to_collected(b2)
    assert [r.status for r in r2.items] == ["succeeded", "succeeded"] and r2.retry == []
    assert {r.attempts for r in r2.items} == {2}
    executed = kit.sandbox.batches.stats.lines_executed
    assert len(executed) == 8 and set(executed.values()) == {1}  # 6 in round 1, 2 in round 2, none twice


def test_completed_with_zero_successes_is_fatal_with_the_reason(kit: BatchKit) -> None:
    kit.sandbox.batches.faults.all_fail = True
    run_id = kit.run(9)
    (b,) = kit.prepare(run_id).batch_ids
    r = kit.run_to_collected(b)
    row = kit.repo.get(b)
    assert row.provider_status == "completed" and row.output_file_id is None and row.error_file_id
    assert r.fatal is not None and "completed with 0 of 9 requests succeeded" in r.fatal and "(9/9)" in r.fatal
    assert not any(i.status == "succeeded" for i in r.items)


def test_incomplete_answers_are_failed_items_that_keep_their_text(kit: BatchKit) -> None:
    kit.sandbox.batches.faults.incomplete_every = 2
    run_id = kit.run(4)
    (b,) = kit.prepare(run_id).batch_ids
    r = kit.run_to_collected(b)
    by_status = sorted((i.status, i.error_code) for i in r.items)
    assert by_status == [("failed", "response_incomplete")] * 2 + [("succeeded", None)] * 2
    cut = next(i for i in r.items if i.status == "failed")
    assert cut.output and "max_output_tokens" in (cut.error or "") and cut.output_tokens > 0
    assert r.retry == []


def test_expired_batch_keeps_paid_successes_and_sends_the_rest_to_the_next_round(kit: BatchKit) -> None:
    kit.sandbox.batches.faults.expire_after_lines = 2
    run_id = kit.run(5)
    (b,) = kit.prepare(run_id).batch_ids
    kit.step(b)
    kit.sandbox.batches.advance(86_400 + 5)
    r = kit.run_to_collected(b)
    assert r.provider_status == "expired"
    assert sorted(i.status for i in r.items) == ["succeeded", "succeeded"]
    assert len(r.retry) == 3 and {x.code for x in r.retry} == {"batch_expired"}
    assert {x.outcome for x in kit.repo.requests_of(b)} == {"succeeded", "not_executed"}

    last_round = with_config(kit, max_rounds=1)
    run2 = kit.run(5)
    (b2,) = kit.prepare(run2).batch_ids
    kit.step(b2)
    kit.sandbox.batches.advance(86_400 + 5)
    r2 = last_round.run_to_collected(b2)
    assert r2.retry == [] and len(r2.items) == 5
    gave_up = [i for i in r2.items if i.status == "failed"]
    assert len(gave_up) == 3 and all("gave up after 1 rounds" in (i.error or "") for i in gave_up)


def test_lines_in_neither_file_duplicates_and_wrong_counts_are_anomalies(kit: BatchKit) -> None:
    f = kit.sandbox.batches.faults
    f.drop_lines, f.duplicate_lines, f.counts_wrong = 1, 1, True
    run_id = kit.run(5)
    (b,) = kit.prepare(run_id).batch_ids
    r = kit.run_to_collected(b)
    kinds = {a["kind"] for a in r.anomalies}
    assert kinds == {"missing_results", "duplicate_results", "request_counts_mismatch", "usage_mismatch"}
    assert len(r.items) == 4 and len(r.retry) == 1 and r.retry[0].code == "batch_result_missing"
    assert kit.repo.get(b).anomalies == r.anomalies
    outcomes = sorted(x.outcome or "" for x in kit.repo.requests_of(b))
    assert outcomes == ["missing"] + ["succeeded"] * 4


def test_a_rejected_batch_maps_error_lines_back_to_items(kit: BatchKit) -> None:
    kit.sandbox.batches.faults.validation_fail_lines = (2,)
    run_id = kit.run(3)
    items = kit.items(run_id)
    (b,) = kit.prepare(run_id).batch_ids
    r = kit.run_to_collected(b)
    assert r.provider_status == "failed" and r.fatal is None and not r.defer
    (failed,) = r.items
    assert failed.item_id == items[1].item_id and failed.status == "failed"
    assert "rejected at validation" in (failed.error or "") and failed.error_code == "invalid_request"
    assert sorted(x.item_id for x in r.retry) == [items[0].item_id, items[2].item_id]
    assert kit.sandbox.batches.stats.lines_executed == {}


def test_token_limit_exceeded_means_later_and_smaller(kit: BatchKit) -> None:
    kit.sandbox.batches.faults.enqueued_token_limit = 10
    run_id = kit.run(3)
    (b,) = kit.prepare(run_id).batch_ids
    r = kit.run_to_collected(b)
    assert r.provider_status == "failed" and r.defer and r.fatal is None
    assert len(r.retry) == 3 and {x.code for x in r.retry} == {"token_limit_exceeded"} and r.items == []


@pytest.mark.parametrize("n_bad_lines", [0, 1])
def test_polling_errors_never_end_a_batch(kit: BatchKit, n_bad_lines: int) -> None:
    run_id = kit.run(2)
    (b,) = kit.prepare(run_id).batch_ids
    kit.step(b)
    kit.sandbox.batches.advance(10)
    kit.sandbox.batches.faults.retrieve_error_next = 3
    for n in range(1, 4):
        step = kit.step(b)
        assert step.state == SUBMITTED and step.polled is not None and "HTTP 500" in (step.polled.error or "")
        assert kit.repo.get(b).poll_failures == n
    kit.sandbox.batches.faults.retrieve_gone = True
    step = kit.step(b)
    assert step.state == SUBMITTED
    assert [a["kind"] for a in kit.repo.get(b).anomalies] == ["retrieve_http_404"]
    kit.sandbox.batches.faults.retrieve_gone = False
    r = kit.run_to_collected(b)
    assert len(r.items) == 2 and kit.repo.get(b).poll_failures == 0


def test_content_download_is_retried_and_a_vanished_file_is_an_anomaly(kit: BatchKit) -> None:
    run_id = kit.run(2)
    (b,) = kit.prepare(run_id).batch_ids
    kit.sandbox.batches.faults.content_error_next = 2
    r = kit.run_to_collected(b)
    assert len(r.items) == 2 and kit.sandbox.batches.stats.content_downloads == 3

    run2 = kit.run(2)
    (b2,) = kit.prepare(run2).batch_ids
    kit.step(b2)  # submitted
    kit.sandbox.batches.advance(10)
    poll_batch(kit.repo, kit.client, b2, owner=kit.owner, config=kit.config)
    assert kit.repo.get(b2).state == TERMINAL  # seen completed, not yet copied
    kit.sandbox.batches.advance(31 * 86_400)  # the provider deleted its files
    r2 = kit.collect(b2)
    kinds = [a["kind"] for a in r2.anomalies]
    assert kinds[:2] == ["output_file_gone", "missing_results"]
    assert set(kinds[2:]) == {"request_counts_mismatch", "usage_mismatch"}  # what the provider said it did
    assert len(r2.retry) == 2 and r2.items == [] and {x.code for x in r2.retry} == {"batch_result_missing"}


def test_usage_from_lines_is_what_is_billed(kit: BatchKit) -> None:
    run_id = kit.run(3)
    (b,) = kit.prepare(run_id).batch_ids
    r = kit.run_to_collected(b)
    total = Usage()
    for i in r.items:
        total.add(Usage(i.input_tokens, i.cached_tokens, i.output_tokens, i.reasoning_tokens, requests=1))
    assert billed_usage(kit.repo, run_id, STAGE_RESPONSES) == total
