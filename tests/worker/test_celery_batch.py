"""Batch runs on Celery: a REAL `lse worker` takes the first step from the queue and its batch
poller the rest, through this machine's Redis and the sandbox's Batch API (real time)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.batch_eval import PARAMS, questions
from helpers.fast_eval import fast_settings, make_fast_run, run_row
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun
from lse.worker import dispatch


def _start_worker(settings, sandbox, redis_url: str, cwd: Path, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "LSE_DATA_DIR": str(settings.data_dir),
        "LSE_CELERY_BROKER_URL": redis_url,
        "OPENAI_BASE_URL": sandbox.base_url,
        "OPENAI_API_KEY": sandbox.api_key,
        "LSE_EVAL_BATCH_POLL_S": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lse.cli.main", "worker", "--concurrency", "1", "--loglevel", "INFO", *extra],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=open(cwd / f"worker-{time.monotonic_ns()}.log", "wb"),
    )


def _batch_run(settings, n: int) -> int:
    run_id = make_fast_run(settings, questions(n), params=PARAMS)
    with unit_of_work(get_engine(settings)) as s:
        s.get(EvaluationRun, run_id).run_mode = "batch"
    return run_id


def _wait_ended(settings, run_id: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run_row(settings, run_id).status
        if status in ("completed", "failed", "cancelled"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {run_row(settings, run_id).status} after {timeout:g} s")


@pytest.mark.timeout(90)
def test_a_batch_run_goes_through_redis_and_the_worker_s_poller(redis_url, settings, openai_sandbox, tmp_path) -> None:
    f = openai_sandbox.batches.faults
    f.validate_s, f.process_s, f.finalize_s = 0.2, 0.4, 0.1
    fs = fast_settings(settings, openai_sandbox, celery_broker_url=redis_url)
    run_id = _batch_run(fs, 8)
    dispatch.submit_run(fs, run_id)  # task lse.evaluations.advance_batch, queued before any worker exists
    worker = _start_worker(fs, openai_sandbox, redis_url, tmp_path)
    try:
        assert _wait_ended(fs, run_id, 60) == "completed"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
    run = run_row(fs, run_id)
    assert run.items_succeeded == 8 and run.cost["pricing"] == "batch"
    stats = openai_sandbox.batches.stats
    assert (stats.files_uploaded, stats.batches_created) == (1, 1)
    assert sorted(stats.lines_executed.values()) == [1] * 8


@pytest.mark.timeout(90)
def test_a_worker_without_its_batch_poller_leaves_batch_runs_to_others(
    redis_url, settings, openai_sandbox, tmp_path
) -> None:
    fs = fast_settings(settings, openai_sandbox, celery_broker_url=redis_url)
    run_id = _batch_run(fs, 2)
    worker = _start_worker(fs, openai_sandbox, redis_url, tmp_path, "--no-poll-batches", "--no-recover")
    try:
        time.sleep(3)  # long enough for a poller's many ticks
        assert run_row(fs, run_id).status == "pending" and openai_sandbox.batches.stats.files_uploaded == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
