"""Celery end to end: a REAL `lse worker` process on this machine's Redis runs the same job code.

Each test gets its own Redis database (tests/worker/conftest.py). With CI=true an
unreachable Redis fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from helpers.fast_eval import fast_settings, item_rows, make_fast_run, run_row
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun, utcnow
from lse.worker import dispatch


def _start_worker(settings, sandbox, redis_url: str, cwd: Path, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "LSE_DATA_DIR": str(settings.data_dir),
        "LSE_CELERY_BROKER_URL": redis_url,
        "OPENAI_BASE_URL": sandbox.base_url,
        "OPENAI_API_KEY": sandbox.api_key,
        "LSE_EVAL_FAST_API_CONCURRENCY": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lse.cli.main", "worker", "--concurrency", "1", "--loglevel", "INFO", *extra],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=open(cwd / f"worker-{time.monotonic_ns()}.log", "wb"),
    )


def _wait(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(90)
def test_submit_goes_through_redis_to_a_real_worker(redis_url, settings, openai_sandbox, tmp_path) -> None:
    fs = fast_settings(settings, openai_sandbox, celery_broker_url=redis_url)
    run_id = make_fast_run(fs, 6)
    dispatch.submit_run(fs, run_id)  # queued before any worker exists: Redis holds it
    worker = _start_worker(fs, openai_sandbox, redis_url, tmp_path)
    try:
        _wait(lambda: run_row(fs, run_id).status == "completed", 60, "the worker to complete the run")
    finally:
        _stop(worker)
    run = run_row(fs, run_id)
    assert run.items_succeeded == 6 and run.score["summary_scores"][0]["total_pairs"] == 6
    assert openai_sandbox.stats.requests_by_endpoint == {"responses": 6, "embeddings": 1}


@pytest.mark.timeout(90)
def test_a_killed_worker_s_run_is_resumed_by_the_next_worker(redis_url, settings, openai_sandbox, tmp_path) -> None:
    fs = fast_settings(settings, openai_sandbox, celery_broker_url=redis_url)
    openai_sandbox.faults.responses_latency_ms = 150
    questions = [f"celery question {i}" for i in range(16)]
    run_id = make_fast_run(fs, questions)
    first = _start_worker(fs, openai_sandbox, redis_url, tmp_path)
    try:
        dispatch.submit_run(fs, run_id)
        _wait(lambda: len(item_rows(fs, run_id)) >= 4, 60, "some items to finish")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    done_before = {r.item_id for r in item_rows(fs, run_id)}
    assert run_row(fs, run_id).status == "processing" and len(done_before) < 16
    with unit_of_work(get_engine(fs)) as s:  # the dead worker's last beat, aged past --stale-after
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == run_id).values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
    second = _start_worker(fs, openai_sandbox, redis_url, tmp_path)
    try:
        _wait(lambda: run_row(fs, run_id).status == "completed", 60, "the second worker to resume the run")
    finally:
        _stop(second)
    inputs = openai_sandbox.stats.responses_inputs
    rows = sorted(item_rows(fs, run_id), key=lambda r: r.item_id)
    assert len(rows) == 16 and all(r.status == "succeeded" for r in rows)
    for i, r in enumerate(rows):
        if r.item_id in done_before:
            assert inputs.count(questions[i]) == 1
    assert len(inputs) <= 16 + 2


def test_recovery_requeues_pending_runs_whose_message_was_lost(redis_url, settings, openai_sandbox) -> None:
    """Nothing consumes here: the assertions are on the rows chosen and the messages in Redis."""
    import redis

    from lse.worker.recovery import requeue_left_behind

    fs = fast_settings(settings, openai_sandbox, celery_broker_url=redis_url)
    lost, fresh, live = make_fast_run(fs, 1), make_fast_run(fs, 1), make_fast_run(fs, 1)
    long_ago = utcnow() - timedelta(minutes=5)
    with unit_of_work(get_engine(fs)) as s:
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == lost).values(created_at=long_ago, updated_at=long_ago)
        )
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == live).values(status="processing", heartbeat_at=utcnow())
        )
    assert requeue_left_behind(fs, queue="evaluations") == [lost]  # not the new one, not the live one
    assert redis.Redis.from_url(redis_url).llen("evaluations") == 1
    assert requeue_left_behind(fs, queue="evaluations") == []  # queued again just now: left alone
    assert run_row(fs, fresh).status == "pending"
