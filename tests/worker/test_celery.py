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
from pathlib import Path

import pytest

from helpers.fast_eval import fast_settings, item_rows, make_fast_run, run_row
from lse.worker import dispatch


def _start_worker(settings, sandbox, redis_url: str, cwd: Path, *extra: str) -> subprocess.Popen:  # noqa: ANN001
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
        stderr=open(cwd / f"worker-{time.monotonic_ns()}.log", "wb"),  # noqa: SIM115
    )


def _wait(pred, timeout: float, what: str) -> None:  # noqa: ANN001
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
def test_submit_goes_through_redis_to_a_real_worker(redis_url, settings, openai_sandbox, tmp_path) -> None:  # noqa: ANN001
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
def test_a_killed_worker_s_run_is_resumed_by_the_next_worker(redis_url, settings, openai_sandbox, tmp_path) -> None:  # noqa: ANN001
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
    time.sleep(1.2)  # let the heartbeat go stale (the second worker is told 1 s is stale)
    second = _start_worker(fs, openai_sandbox, redis_url, tmp_path, "--stale-after", "1")
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
