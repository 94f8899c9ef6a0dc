"""`lse serve` SIGKILLed in the middle of a batch run, twice, and restarted at once each time:
the run finishes by itself, and the provider saw one upload, one create and every request
line executed once — nothing lost, duplicated or paid twice.

The first kill lands in the most dangerous window: the provider has created the batch but its
answer has not reached lse (the sandbox holds the answer back). The second lands while the
batch is running at the provider. The sandbox's batch clock moves only when the test says.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.batch_eval import PARAMS, questions
from helpers.fast_eval import fast_settings, item_rows, make_fast_run, run_row
from lse.evals.batch.repository import BatchRepository
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun

HEARTBEAT_S, STALE_AFTER_S, LEASE_S = 0.5, 2.0, 3.0
N = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings, sandbox, cwd: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "LSE_DATA_DIR": str(settings.data_dir),
        "OPENAI_BASE_URL": sandbox.base_url,
        "OPENAI_API_KEY": sandbox.api_key,
        "LSE_EVAL_HEARTBEAT_S": str(HEARTBEAT_S),
        "LSE_EVAL_STALE_AFTER_S": str(STALE_AFTER_S),
        "LSE_EVAL_BATCH_LEASE_S": str(LEASE_S),
        "LSE_EVAL_BATCH_POLL_S": "0.2",
    }
    env.pop("LSE_CELERY_BROKER_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "lse.cli.main", "serve", "--port", str(_free_port())],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=open(cwd / f"serve-{time.monotonic_ns()}.log", "wb"),
    )


def _wait(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        _kill(proc)


@pytest.mark.timeout(150)
def test_serve_killed_mid_create_and_mid_batch_finishes_the_run_paying_each_request_once(
    settings, openai_sandbox, tmp_path
) -> None:
    sb = openai_sandbox
    sb.batches.clock.freeze()
    sb.batches.faults.process_s = 12.0  # one line a second of the batch clock
    sb.batches.faults.create_response_delay_s = 60  # created at once, answered a minute later
    fs = fast_settings(settings, sb)
    run_id = make_fast_run(fs, questions(N), params=PARAMS)
    with unit_of_work(get_engine(fs)) as s:
        s.get(EvaluationRun, run_id).run_mode = "batch"
    repo = BatchRepository(get_engine(fs))

    first = _serve(fs, sb, tmp_path)
    try:
        _wait(lambda: sb.batches.stats.batches_created == 1, 60, "the first server to create the batch")
    finally:
        _kill(first)  # the provider has the batch; lse has no id for it
    (row,) = repo.batches_of_run(run_id)
    assert row.state == "uploaded" and row.create_attempted_at is not None and row.provider_batch_id is None
    sb.batches.faults.create_response_delay_s = 0

    second = _serve(fs, sb, tmp_path)  # at once: the dead server's claim and lease are still fresh
    try:
        _wait(lambda: repo.batches_of_run(run_id)[0].state == "submitted", 60, "the batch found by its key")
        sb.batches.advance(1 + 4)  # validated, then 4 lines ran
        _wait(lambda: (repo.batches_of_run(run_id)[0].request_counts or {}).get("completed", 0) >= 4, 30, "a poll")
    finally:
        _kill(second)  # mid-batch
    assert run_row(fs, run_id).status == "processing"

    third = _serve(fs, sb, tmp_path)
    try:
        sb.batches.advance(30)  # the rest ran and the batch completed
        _wait(lambda: run_row(fs, run_id).status in ("completed", "failed"), 60, "the third server to finish")
    finally:
        _stop(third)

    run = run_row(fs, run_id)
    assert run.status == "completed", run.error_message
    assert run.items_succeeded == N and run.score["summary_scores"][0]["total_pairs"] == N
    assert run.cost["pricing"] == "batch" and run.cost["total_cost_usd"] > 0
    rows = item_rows(fs, run_id)
    assert len(rows) == N and all(r.status == "succeeded" and r.attempts == 1 for r in rows)
    stats = sb.batches.stats
    assert (stats.files_uploaded, stats.create_calls, stats.batches_created) == (1, 1, 1)
    assert stats.content_downloads == 1
    executed = stats.lines_executed
    assert len(executed) == N and set(executed.values()) == {1}  # every custom_id executed exactly once
