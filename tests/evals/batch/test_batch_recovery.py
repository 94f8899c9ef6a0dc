"""Never pay twice, never lose a paid answer: crashes, lost answers, concurrent pollers,
cancels and deadlines, against the sandbox through the real SDK."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from helpers.batch_eval import BatchKit, make_kit, with_config
from lse.evals.batch.cancel import cancel_batch_row
from lse.evals.batch.config import RemoteRetry
from lse.evals.batch.driver import Step
from lse.evals.batch.objects_io import open_object
from lse.evals.batch.states import ABANDONED, COLLECTED, SUBMITTED, UPLOADED
from lse.evals.batch.submit import request_filename, submit_batch
from lse.sandbox.openai import OpenAISandbox
from lse.settings import Settings
from lse.store.models.evaluation import utcnow

ONE_TRY = RemoteRetry(max_attempts=1, max_wait_s=0.0, initial_wait_s=0.0, sleep=lambda s: None)


def later(seconds: float):
    return lambda: utcnow() + timedelta(seconds=seconds)


def test_a_create_whose_answer_was_lost_is_found_by_its_key_not_created_again(kit: BatchKit) -> None:
    kit.sandbox.batches.faults.create_lost_response_next = 1
    run_id = kit.run(3)
    (b,) = kit.prepare(run_id).batch_ids
    result = submit_batch(kit.repo, kit.client, kit.store, b, owner=kit.owner, config=kit.config)
    assert result.state == SUBMITTED and result.recovered
    stats = kit.sandbox.batches.stats
    assert (stats.create_calls, stats.batches_created, stats.lists) == (1, 1, 1)
    (remote,) = kit.client.batches.list()
    assert kit.repo.get(b).provider_batch_id == remote.id
    r = kit.run_to_collected(b)
    assert len(r.items) == 3 and set(stats.lines_executed.values()) == {1}


def test_sigkill_between_create_and_record_then_restart_creates_exactly_one_batch(kit: BatchKit, tmp_path) -> None:
    run_id = kit.run(4)
    (b,) = kit.prepare(run_id).batch_ids
    kit.sandbox.batches.faults.create_response_delay_s = 60  # created at once, answered much later
    env = {
        **os.environ,
        "LSE_DATA_DIR": str(kit.settings.data_dir),
        "OPENAI_BASE_URL": kit.sandbox.base_url,
        "OPENAI_API_KEY": kit.sandbox.api_key,
    }
    code = (
        "from lse.settings import load_settings\n"
        "from lse.evals.batch.config import BatchConfig\n"
        "from lse.evals.batch.repository import BatchRepository\n"
        "from lse.evals.batch.submit import submit_batch\n"
        "from lse.objects import object_store\n"
        "from lse.providers.client import openai_client\n"
        "from lse.store.engine import get_engine\n"
        "s = load_settings()\n"
        f"submit_batch(BatchRepository(get_engine(s)), openai_client(s), object_store(s), {b}, "
        "owner='doomed-worker', config=BatchConfig(lease_s=30))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while kit.sandbox.batches.stats.batches_created < 1:
            assert proc.poll() is None, "the submitting process ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    row = kit.repo.get(b)
    assert row.state == UPLOADED and row.create_attempted_at is not None and row.provider_batch_id is None
    assert row.lease_owner == "doomed-worker"
    kit.sandbox.batches.faults.create_response_delay_s = 0

    blocked = submit_batch(kit.repo, kit.client, kit.store, b, owner="restarted", config=kit.config)
    assert blocked.state == UPLOADED and "lease" in (blocked.message or "")  # the dead owner's lease still runs
    result = submit_batch(kit.repo, kit.client, kit.store, b, owner="restarted", config=kit.config, now=later(60))
    assert result.state == SUBMITTED and result.recovered
    stats = kit.sandbox.batches.stats
    assert (stats.files_uploaded, stats.create_calls, stats.batches_created) == (1, 1, 1)
    r = kit.run_to_collected(b, now=later(60))
    assert len(r.items) == 4 and set(stats.lines_executed.values()) == {1}


def test_an_upload_whose_answer_was_lost_is_found_by_its_filename(kit: BatchKit) -> None:
    run_id = kit.run(2)
    (b,) = kit.prepare(run_id).batch_ids
    row = kit.repo.get(b)
    # the state a process leaves when it dies after uploading, before recording the file id
    assert kit.repo.acquire(b, "dead", now=utcnow(), lease_s=1)
    assert kit.repo.update(b, "dead", upload_attempted_at=utcnow())
    with open_object(kit.store, row.request_key) as fh:
        orphan = kit.client.files.create(file=(request_filename(row), fh), purpose="batch").id
    result = submit_batch(kit.repo, kit.client, kit.store, b, owner=kit.owner, config=kit.config, now=later(5))
    assert result.state == SUBMITTED
    assert kit.repo.get(b).input_file_id == orphan and kit.sandbox.batches.stats.files_uploaded == 1


def test_a_create_attempt_not_listed_yet_waits_instead_of_creating_again(kit: BatchKit) -> None:
    kit = with_config(kit, recover_grace_s=120, retry=ONE_TRY)
    run_id = kit.run(2)
    (b,) = kit.prepare(run_id).batch_ids
    kit.sandbox.batches.faults.create_error_next = 1  # a 500 that created nothing
    failed = submit_batch(kit.repo, kit.client, kit.store, b, owner=kit.owner, config=kit.config)
    assert failed.state == UPLOADED and "HTTP 500" in (failed.message or "") and not failed.waiting
    assert kit.repo.get(b).create_attempted_at is not None
    waiting = submit_batch(kit.repo, kit.client, kit.store, b, owner=kit.owner, config=kit.config, now=later(5))
    assert waiting.waiting and waiting.state == UPLOADED  # not listed, but too soon to be sure
    stats = kit.sandbox.batches.stats
    assert (stats.create_calls, stats.batches_created) == (1, 0)
    done = submit_batch(kit.repo, kit.client, kit.store, b, owner=kit.owner, config=kit.config, now=later(300))
    assert done.state == SUBMITTED and not done.recovered
    assert (stats.create_calls, stats.batches_created, stats.files_uploaded) == (2, 1, 1)


@pytest.fixture
def db_kit(db_settings: Settings, sb: OpenAISandbox) -> Iterator[BatchKit]:
    k = make_kit(db_settings, sb)
    yield k
    k.client.close()


def test_two_pollers_on_one_batch_collect_it_once(db_kit: BatchKit) -> None:
    kit = db_kit
    run_id = kit.run(6)
    (b,) = kit.prepare(run_id).batch_ids
    barrier = threading.Barrier(2)
    steps: dict[str, list[Step]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def poller(name: str) -> None:
        try:
            barrier.wait()
            for _ in range(40):
                step = kit.step(b, owner=name)
                steps[name].append(step)
                if kit.repo.get(b).state == COLLECTED:
                    return
                time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001 -- reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=poller, args=(n,)) for n in steps]
    for t in threads:
        t.start()
    for _ in range(40):
        if all(not t.is_alive() for t in threads):
            break
        kit.sandbox.batches.advance(1)
        time.sleep(0.02)
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert kit.repo.get(b).state == COLLECTED
    collected_now = [s.collected for s in steps["a"] + steps["b"] if s.collected and s.collected.collected_now]
    assert len(collected_now) == 1 and len(collected_now[0].items) == 6
    stats = kit.sandbox.batches.stats
    assert (stats.files_uploaded, stats.batches_created, stats.content_downloads) == (1, 1, 1)
    assert set(stats.lines_executed.values()) == {1}
    assert {r.outcome for r in kit.repo.requests_of(b)} == {"succeeded"}


def test_leases_are_compare_and_set(db_kit: BatchKit) -> None:
    kit = db_kit
    run_id = kit.run(1)
    (b,) = kit.prepare(run_id).batch_ids
    now = utcnow()
    assert kit.repo.acquire(b, "a", now=now, lease_s=60)
    assert not kit.repo.acquire(b, "b", now=now, lease_s=60)
    assert not kit.repo.update(b, "b", outcome="not mine")
    assert kit.repo.update(b, "a", outcome="mine")
    assert kit.repo.acquire(b, "b", now=now + timedelta(seconds=61), lease_s=60)  # expired: taken over
    assert not kit.repo.update(b, "a", outcome="stale owner")
    assert kit.repo.get(b).outcome == "mine"
    assert not kit.repo.acquire(b, "c", now=now + timedelta(seconds=62), lease_s=60, states=["collected"])


def test_due_for_poll_lists_submitted_batches_whose_time_has_come_and_nobody_holds(db_kit: BatchKit) -> None:
    kit = with_config(db_kit, poll_s=30)
    run_id = kit.run(2)
    (b,) = kit.prepare(run_id).batch_ids
    assert kit.repo.due_for_poll(utcnow()) == []  # not submitted yet
    kit.step(b)
    assert kit.repo.due_for_poll(utcnow()) == []  # next poll in 30 s
    assert kit.repo.due_for_poll(utcnow() + timedelta(seconds=31)) == [b]
    assert kit.repo.due_for_poll(utcnow() + timedelta(seconds=31), run_id=run_id + 1) == []
    assert kit.repo.acquire(b, "someone", now=utcnow(), lease_s=120)
    assert kit.repo.due_for_poll(utcnow() + timedelta(seconds=31)) == []  # held
    assert kit.repo.due_for_poll(utcnow() + timedelta(seconds=121)) == [b]  # the holder died


def test_cancel_mid_run_keeps_what_ran_and_ends_the_rest(kit: BatchKit) -> None:
    f = kit.sandbox.batches.faults
    f.process_s, f.cancel_delay_s = 100, 30
    run_id = kit.run(10)
    (b,) = kit.prepare(run_id).batch_ids
    kit.step(b)
    kit.sandbox.batches.advance(36)  # validated at 1 s, then 3.5 of 10 lines' time
    held = kit.repo.acquire(b, "a-poller", now=utcnow(), lease_s=60)
    busy = cancel_batch_row(kit.repo, kit.client, b, owner=kit.owner, config=kit.config)
    assert held and not busy.done and kit.sandbox.batches.stats.cancels == 0  # told to ask again, not dropped
    kit.repo.release(b, "a-poller")
    assert cancel_batch_row(kit.repo, kit.client, b, owner=kit.owner, config=kit.config).done
    assert kit.sandbox.batches.stats.cancels == 1 and kit.repo.get(b).cancel_requested_at is not None
    r = kit.run_to_collected(b, seconds=10)
    assert r.provider_status == "cancelled" and r.retry == [] and len(r.items) == 10
    ok = [i for i in r.items if i.status == "succeeded"]
    stopped = [i for i in r.items if i.status == "failed"]
    assert len(ok) == 3 and len(stopped) == 7
    assert {i.error_code for i in stopped} == {"batch_cancelled"}
    assert all("cancelled" in (i.error or "") for i in stopped)
    assert len(kit.sandbox.batches.stats.lines_executed) == 3


def test_cancel_while_validating_ends_every_item_without_another_round(kit: BatchKit) -> None:
    kit.sandbox.batches.faults.validate_s = 100
    run_id = kit.run(3)
    (b,) = kit.prepare(run_id).batch_ids
    kit.step(b)
    assert cancel_batch_row(kit.repo, kit.client, b, owner=kit.owner, config=kit.config).done
    r = kit.run_to_collected(b)
    assert r.provider_status == "cancelled" and r.retry == [] and len(r.items) == 3
    assert {(i.status, i.error_code) for i in r.items} == {("failed", "batch_result_missing")}
    assert all(i.error == "not executed: the evaluation was cancelled" for i in r.items)
    assert kit.sandbox.batches.stats.lines_executed == {}


def test_cancel_before_creation_abandons_and_finds_a_lost_create(kit: BatchKit) -> None:
    run_id = kit.run(2)
    (b,) = kit.prepare(run_id).batch_ids
    assert cancel_batch_row(kit.repo, kit.client, b, owner=kit.owner, config=kit.config).state == ABANDONED
    r = kit.collect(b)
    assert r.provider_status == "abandoned" and {i.error_code for i in r.items} == {"batch_cancelled"}
    assert kit.sandbox.batches.stats.files_uploaded == 0

    run2 = kit.run(2)
    (b2,) = kit.prepare(run2).batch_ids
    kit.sandbox.batches.faults.create_lost_response_next = 1
    once = with_config(kit, retry=ONE_TRY)
    first = submit_batch(once.repo, once.client, once.store, b2, owner=kit.owner, config=once.config)
    assert first.state == UPLOADED  # the create landed, its answer did not
    assert cancel_batch_row(kit.repo, kit.client, b2, owner=kit.owner, config=kit.config).state == SUBMITTED
    row = kit.repo.get(b2)
    assert row.provider_batch_id is not None and kit.sandbox.batches.status_of(row.provider_batch_id) == "cancelling"


def sandbox_now(kit: BatchKit):
    return lambda: datetime.fromtimestamp(kit.sandbox.batches.clock.now(), UTC)


def test_a_batch_stuck_past_its_deadline_is_cancelled_and_its_paid_lines_kept(kit: BatchKit) -> None:
    kit = with_config(kit, deadline_grace_s=3600)
    kit.sandbox.batches.faults.stuck = True
    run_id = kit.run(3)
    (b,) = kit.prepare(run_id).batch_ids
    clock = sandbox_now(kit)
    kit.step(b, now=clock)
    kit.sandbox.batches.advance(86_400)
    assert kit.step(b, now=clock).state == SUBMITTED  # past expires_at, within the grace: wait
    assert kit.sandbox.batches.stats.cancels == 0
    kit.sandbox.batches.advance(3601)
    assert kit.step(b, now=clock).state == SUBMITTED
    assert kit.sandbox.batches.stats.cancels == 1
    assert [a["kind"] for a in kit.repo.get(b).anomalies] == ["deadline"]
    kit.sandbox.batches.advance(10)
    step = kit.step(b, now=clock)
    assert step.collected is not None and step.collected.provider_status == "cancelled"
    assert [i.status for i in step.collected.items] == ["succeeded"] * 3  # ran before the cancel: kept


def test_an_unreachable_batch_is_given_up_after_its_deadline_and_its_items_go_again(kit: BatchKit) -> None:
    kit = with_config(kit, deadline_grace_s=60)
    kit.sandbox.batches.faults.stuck = True
    run_id = kit.run(2)
    (b,) = kit.prepare(run_id).batch_ids
    clock = sandbox_now(kit)
    kit.step(b, now=clock)
    kit.sandbox.batches.faults.retrieve_gone = True
    kit.sandbox.batches.advance(86_400 + 61)
    assert kit.step(b, now=clock).state == SUBMITTED  # asks to cancel, keeps polling
    kit.sandbox.batches.advance(3601)
    step = kit.step(b, now=clock)
    assert step.collected is not None and step.collected.provider_status == "deadline"
    assert len(step.collected.retry) == 2 and step.collected.items == []
    row = kit.repo.get(b)
    assert row.state == COLLECTED and "given up" in (row.outcome or "")
    assert {a["kind"] for a in row.anomalies} >= {"deadline", "retrieve_http_404", "missing_results"}
