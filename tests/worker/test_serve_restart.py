"""A killed `lse serve` restarted at once finishes the run it was executing, by itself.

Defect under test: the in-process pool looked for left-behind runs only at start-up, so a
run whose server was SIGKILLed and restarted (its heartbeat still fresh) stayed
`processing` for good. Now the pool watches for as long as it lives; the run is taken over
once its heartbeat is older than LSE_EVAL_STALE_AFTER_S, and no finished call is repeated.
"""

from __future__ import annotations

import os
import signal
import socket
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

HEARTBEAT_S, STALE_AFTER_S = 0.5, 2.0


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
        "LSE_EVAL_FAST_API_CONCURRENCY": "2",
        "LSE_EVAL_HEARTBEAT_S": str(HEARTBEAT_S),
        "LSE_EVAL_STALE_AFTER_S": str(STALE_AFTER_S),
    }
    env.pop("LSE_CELERY_BROKER_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "lse.cli.main", "serve", "--port", str(_free_port())],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=open(cwd / f"serve-{time.monotonic_ns()}.log", "wb"),
    )


def _wait(pred, timeout: float, what: str) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return time.monotonic() - t0
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.mark.timeout(90)
def test_a_killed_and_restarted_server_finishes_its_run_by_itself(settings, openai_sandbox, tmp_path) -> None:
    fs = fast_settings(settings, openai_sandbox)
    openai_sandbox.faults.responses_latency_ms = 150
    questions = [f"serve question {i}" for i in range(30)]
    run_id = make_fast_run(fs, questions)
    with unit_of_work(get_engine(fs)) as s:  # submitted a while ago, nobody took it: the server will
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == run_id).values(updated_at=utcnow() - timedelta(minutes=1))
        )

    first = _serve(fs, openai_sandbox, tmp_path)
    try:
        _wait(lambda: len(item_rows(fs, run_id)) >= 6, 45, "the first server to finish some items")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    done_before = {r.item_id for r in item_rows(fs, run_id)}
    assert run_row(fs, run_id).status == "processing" and len(done_before) < 30

    second = _serve(fs, openai_sandbox, tmp_path)  # at once: the dead server's heartbeat is fresh
    try:
        took = _wait(lambda: run_row(fs, run_id).status == "completed", 45, "the restarted server to finish the run")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(10)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()
    # stale-after, a check interval, the server's start and the ~2 s of calls left: seconds, not minutes
    assert took < STALE_AFTER_S + 15
    rows = sorted(item_rows(fs, run_id), key=lambda r: r.item_id)
    assert len(rows) == 30 and all(r.status == "succeeded" for r in rows)
    inputs = openai_sandbox.stats.responses_inputs
    for i, r in enumerate(rows):
        if r.item_id in done_before:
            assert inputs.count(questions[i]) == 1  # no finished call repeated
    assert len(inputs) <= 30 + 2  # only the calls in flight at the kill were made twice
