"""Batch runs under pressure: cancel, a refused key, the enqueued-token limit, a crash while a
round was being prepared, two pollers on one run, a batch stuck past its deadline."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from helpers.batch_eval import MODEL, PARAMS, RunDriver, make_driver
from helpers.fast_eval import item_rows, run_row
from lse.errors import ConflictError
from lse.evals.batch.config import BatchLimits
from lse.evals.batch.objects_io import open_object
from lse.evals.batch.prepare import RoundItem, prepare_round
from lse.evals.batch.repository import BatchRepository
from lse.evals.cancel import cancel_run
from lse.evals.pipeline.repository import RunRepository
from lse.evals.runs import get_run
from lse.objects import object_store
from lse.sandbox.openai import OpenAISandbox
from lse.settings import Settings
from lse.store.engine import get_engine


def batches(driver: RunDriver, run_id: int):
    return get_run(driver.settings, None, run_id).batches or []


def test_cancel_mid_run_cancels_the_provider_batch_keeps_what_ran_and_ends_cancelled(driver: RunDriver) -> None:
    f = driver.sandbox.batches.faults
    f.process_s, f.cancel_delay_s = 100, 30
    run_id = driver.new_run(10)
    driver.step(run_id)
    driver.pass_time(36)  # validated at 1 s, then 3.5 of 10 lines' time
    requested = cancel_run(driver.settings, None, run_id)
    assert requested.status == "processing" and requested.cancel_requested_at is not None
    assert (
        cancel_run(driver.settings, None, run_id).cancel_requested_at == requested.cancel_requested_at
    )  # twice = once
    step = driver.step(run_id)
    assert step.status == "processing" and driver.sandbox.batches.stats.cancels == 1
    (b,) = batches(driver, run_id)
    assert b.provider_status == "cancelling" and b.cancel_requested_at is not None
    end = driver.run_to_end(run_id, seconds=10)
    run = run_row(driver.settings, run_id)
    assert end.status == run.status == "cancelled" and run.error_message == "cancelled by the user"
    rows = item_rows(driver.settings, run_id)
    ok = [r for r in rows if r.status == "succeeded"]
    assert len(rows) == 10 and len(ok) == 3 and all(r.output for r in ok)  # paid answers kept
    assert {r.error_code for r in rows if r.status == "failed"} == {"batch_cancelled"}
    assert run.score is None and run.cost["responses"]["cost_usd"] > 0 and run.cost["pricing"] == "batch"
    assert driver.sandbox.batches.stats.batches_created == 1 and len(driver.sandbox.batches.stats.lines_executed) == 3
    assert cancel_run(driver.settings, None, run_id).status == "cancelled"  # asking again changes nothing


def test_cancel_before_the_first_step_ends_the_run_at_once_and_sends_nothing(driver: RunDriver) -> None:
    run_id = driver.new_run(4)
    done = cancel_run(driver.settings, None, run_id)
    assert done.status == "cancelled" and done.error_message == "cancelled by the user before it started"
    rows = item_rows(driver.settings, run_id)
    assert len(rows) == 4 and {r.error_code for r in rows} == {"run_cancelled"}
    assert driver.step(run_id).action == "busy"  # nothing left to claim
    assert driver.sandbox.batches.stats.calls["files_uploaded"] == 0


def test_a_finished_run_cannot_be_cancelled(driver: RunDriver) -> None:
    run_id = driver.new_run(2)
    driver.run_to_end(run_id)
    with pytest.raises(ConflictError, match="already completed"):
        cancel_run(driver.settings, None, run_id)


def test_a_key_the_provider_refuses_fails_the_run_with_the_reason(settings: Settings, sb: OpenAISandbox) -> None:
    from pydantic import SecretStr

    driver = make_driver(settings, sb)
    driver.settings = driver.settings.model_copy(update={"openai_api_key": SecretStr("sk-wrong")})
    run_id = driver.new_run(3)
    end = driver.step(run_id)
    run = run_row(driver.settings, run_id)
    assert end.action == "finished" and run.status == "failed"
    assert "401" in (run.error_message or "") or "invalid_api_key" in (run.error_message or "")
    assert {r.status for r in item_rows(driver.settings, run_id)} == {"failed"}
    assert sb.batches.stats.batches_created == 0


def test_the_enqueued_token_limit_defers_without_spending_a_round(settings: Settings, sb: OpenAISandbox) -> None:
    driver = make_driver(settings, sb, eval_batch_max_rounds=1)
    run_id = driver.new_run(6)
    one = BatchRepository(get_engine(driver.settings))
    sb.batches.faults.enqueued_token_limit = 100  # the file holds ~126 prompt tokens: refused at validation
    step = driver.step(run_id)
    assert step.status == "processing"
    end = driver.run_to_end(run_id, seconds=5)
    assert end.status == "completed" and run_row(driver.settings, run_id).items_succeeded == 6
    rows = batches(driver, run_id)
    first = rows[0]
    assert (first.round, first.provider_status) == (1, "failed")
    later = rows[1:]
    assert len(later) >= 2 and all(b.round >= 2 for b in later)  # rounds that did not count (max 1)
    assert all(one.get(b.id).est_input_tokens <= one.get(first.id).est_input_tokens // 2 for b in later)
    ran = [b for b in later if b.provider_status == "completed"]
    assert sum(b.n_requests for b in ran) == 6 and {r.attempts for r in item_rows(driver.settings, run_id)} >= {2}
    assert sorted(sb.batches.stats.lines_executed.values()) == [1] * 6


def test_the_deferral_waits_before_sending_again(settings: Settings, sb: OpenAISandbox) -> None:
    driver = make_driver(settings, sb, eval_batch_poll_s=30.0)  # defer_s = 10 polls = 300 s
    run_id = driver.new_run(4)
    sb.batches.faults.enqueued_token_limit = 50  # the file holds ~84 prompt tokens
    driver.step(run_id)
    driver.pass_time(31)
    driver.step(run_id)  # collected the refusal, prepared round 2, held back
    creates = sb.batches.stats.create_calls
    held = [b for b in batches(driver, run_id) if b.round == 2]
    assert held and all(b.state == "prepared" and b.next_poll_at is not None for b in held)
    driver.pass_time(120)
    driver.step(run_id)
    assert sb.batches.stats.create_calls == creates  # still waiting
    sb.batches.faults.enqueued_token_limit = None
    driver.pass_time(200)
    driver.step(run_id)
    assert sb.batches.stats.create_calls > creates


def test_with_an_enqueued_budget_parts_go_one_after_another(settings: Settings, sb: OpenAISandbox) -> None:
    driver = make_driver(settings, sb)
    run_id = driver.new_run(6)
    budget_for_three = 3 * 66 + 10  # each request line of questions(…) is estimated at 66 tokens
    driver.settings = driver.settings.model_copy(update={"eval_batch_max_enqueued_tokens": budget_for_three})
    driver.step(run_id)
    rows = batches(driver, run_id)
    assert len(rows) >= 2 and [b.state for b in rows].count("submitted") == 1  # one in flight at a time
    end = driver.run_to_end(run_id)
    assert end.status == "completed" and sb.batches.stats.batches_created == len(rows)
    assert set(sb.batches.stats.lines_executed.values()) == {1}


def test_a_crash_while_round_one_was_prepared_is_finished_in_round_one(driver: RunDriver) -> None:
    run_id = driver.new_run(6)
    plan = RunRepository(get_engine(driver.settings)).load_plan(run_id)
    repo = BatchRepository(get_engine(driver.settings))
    store = object_store(driver.settings)
    first_two = [RoundItem(i.item_id, i.question) for i in plan.items[:2]]
    prepare_round(
        repo, store, run_id=run_id, round_=1, model=MODEL, params=PARAMS, items=first_two, limits=BatchLimits()
    )
    end = driver.run_to_end(run_id)  # the process that wrote part 1 died before part 2
    assert end.status == "completed"
    rows = batches(driver, run_id)
    assert [(b.round, b.part, b.n_requests) for b in rows] == [(1, 1, 2), (1, 2, 4)]
    assert [r.attempts for r in item_rows(driver.settings, run_id)] == [1] * 6
    assert sorted(driver.sandbox.batches.stats.lines_executed.values()) == [1] * 6


def test_two_pollers_on_one_run_create_one_batch_and_finish_it_once(db_settings: Settings, sb: OpenAISandbox) -> None:
    driver = make_driver(db_settings, sb)
    run_id = driver.new_run(6)
    results: list = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def poller() -> None:
        try:
            barrier.wait()
            for _ in range(40):
                results.append(driver.step(run_id))
                if run_row(driver.settings, run_id).status == "completed":
                    return
        except BaseException as exc:  # noqa: BLE001 -- reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(200):
        if not any(t.is_alive() for t in threads):
            break
        driver.pass_time(1)
        threading.Event().wait(0.02)
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert run_row(driver.settings, run_id).status == "completed"
    assert sum(1 for r in results if r.action == "finished") == 1
    stats = sb.batches.stats
    assert (stats.files_uploaded, stats.create_calls, stats.batches_created, stats.content_downloads) == (1, 1, 1, 1)
    assert sorted(stats.lines_executed.values()) == [1] * 6


def test_a_batch_stuck_past_its_deadline_is_cancelled_and_the_run_finishes(
    settings: Settings, sb: OpenAISandbox
) -> None:
    driver = make_driver(settings, sb, eval_batch_deadline_grace_s=3600.0)
    sb.batches.faults.stuck = True
    run_id = driver.new_run(3)
    driver.step(run_id)
    sb.batches.faults.stuck = False  # only the first batch is stuck (traps are copied into a batch)
    driver.pass_time(86_400 + 3601)
    driver.step(run_id)
    assert sb.batches.stats.cancels == 1
    end = driver.run_to_end(run_id, seconds=10)
    assert end.status == "completed" and run_row(driver.settings, run_id).items_succeeded == 3
    first = batches(driver, run_id)[0]
    assert first.provider_status == "cancelled" and [a["kind"] for a in first.anomalies] == ["deadline"]


def test_one_part_completing_with_no_success_cancels_its_siblings_and_fails_the_run(
    settings: Settings, sb: OpenAISandbox
) -> None:
    # two parts of 3 (66 estimated tokens a line), and room for one at a time at the provider
    driver = make_driver(settings, sb, eval_batch_max_requests=3, eval_batch_max_enqueued_tokens=3 * 66 + 10)
    sb.batches.faults.all_fail = True
    run_id = driver.new_run(6)  # part 1 goes alone, and every line of it fails
    driver.step(run_id)
    assert [b.state for b in batches(driver, run_id)] == ["submitted", "prepared"]
    driver.pass_time(10)
    sb.batches.faults.all_fail = False
    end = driver.run_to_end(run_id, seconds=10)
    run = run_row(driver.settings, run_id)
    assert end.status == "failed" and "completed with 0 of 3 requests succeeded" in (run.error_message or "")
    assert sb.batches.stats.batches_created == 1  # part 2 was never sent: the run could not succeed
    assert [b.state for b in batches(driver, run_id)] == ["collected", "abandoned"]
    assert {r.status for r in item_rows(driver.settings, run_id)} == {"failed"} and run.items_failed == 6


def test_request_files_carry_exactly_the_params_fast_mode_sends(driver: RunDriver) -> None:
    run_id = driver.new_run(2)
    driver.step(run_id)
    (b,) = batches(driver, run_id)
    row = BatchRepository(get_engine(driver.settings)).get(b.id)
    import json

    with open_object(object_store(driver.settings), row.request_key) as fh:
        bodies = [json.loads(line)["body"] for line in fh]
    assert all({k: v for k, v in body.items() if k != "input"} == PARAMS for body in bodies)
    assert replace(BatchLimits(), split_tokens=None) == BatchLimits()
