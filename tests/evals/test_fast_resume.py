"""Crash safety: a killed job resumes with only unfinished items; finished stages are skipped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from helpers.fast_eval import fast_settings, item_rows, job_rows, make_fast_run, run_row
from lse.errors import UsageError
from lse.evals.fast import execute_run
from lse.objects import object_store
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationJob, EvaluationRun, utcnow
from lse.worker.dispatch import resume_runs


def _abandon(settings, run_id: int) -> None:
    """Make the run look left behind by a dead worker."""
    with unit_of_work(get_engine(settings)) as s:
        s.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id)
            .values(status="processing", heartbeat_at=utcnow() - timedelta(minutes=10), completed_at=None)
        )


def test_kill_9_mid_run_then_resume_repeats_no_finished_call(settings, openai_sandbox, tmp_path) -> None:
    fs = fast_settings(settings, openai_sandbox, eval_fast_api_concurrency=2)
    openai_sandbox.faults.responses_latency_ms = 150
    questions = [f"distinct question {i}" for i in range(20)]
    run_id = make_fast_run(fs, questions)
    env = {
        **os.environ,
        "LSE_DATA_DIR": str(fs.data_dir),
        "OPENAI_BASE_URL": openai_sandbox.base_url,
        "OPENAI_API_KEY": openai_sandbox.api_key,
        "LSE_EVAL_FAST_API_CONCURRENCY": "2",
    }
    code = f"from lse.settings import load_settings; from lse.worker.dispatch import run_inline; run_inline(load_settings(), {run_id})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(item_rows(fs, run_id)) < 6:
            assert proc.poll() is None, "the job finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done_before = {r.item_id for r in item_rows(fs, run_id)}
    assert 6 <= len(done_before) < 20
    assert run_row(fs, run_id).status == "processing"  # left behind, not failed
    inputs_before = openai_sandbox.stats.responses_inputs

    _abandon(fs, run_id)  # its heartbeat stops with the process; skip the wait for it to go stale
    outcomes = resume_runs(fs)
    assert [o.run_id for o in outcomes] == [run_id] and outcomes[0].status == "completed"
    rows = item_rows(fs, run_id)
    assert len(rows) == 20 and all(r.status == "succeeded" for r in rows)
    inputs = openai_sandbox.stats.responses_inputs
    # every item finished before the kill was called exactly once, across both processes
    by_item = {r.item_id: questions[i] for i, r in enumerate(sorted(rows, key=lambda r: r.item_id))}
    for item_id in done_before:
        assert inputs.count(by_item[item_id]) == 1
    # only the calls in flight at the kill (at most the concurrency) were made twice
    assert len(inputs) <= 20 + 2
    assert len(inputs) - len(inputs_before) == 20 - len(done_before)


def test_a_finished_stage_is_skipped_on_retry(fs, openai_sandbox) -> None:
    run_id = make_fast_run(fs, 8)
    first = execute_run(fs, run_id)
    assert first.status == "completed"
    score = run_row(fs, run_id).score

    # both stages recorded: a retry calls nothing at all
    _abandon(fs, run_id)
    openai_sandbox.stats.reset()
    again = execute_run(fs, run_id, stale_after_s=60)
    assert again.skipped_stages == ["responses", "embeddings"]
    assert openai_sandbox.stats.requests_by_endpoint == {}
    assert run_row(fs, run_id).status == "completed" and run_row(fs, run_id).score == score

    # only the responses stage recorded, embeddings caches gone: only embeddings are called
    with unit_of_work(get_engine(fs)) as s:
        s.execute(
            delete(EvaluationJob).where(EvaluationJob.run_id == run_id, EvaluationJob.job_type == "embedding_fast")
        )
    store = object_store(fs)
    for key in list(_cache_keys(fs)):
        store.delete(key)
    _abandon(fs, run_id)
    openai_sandbox.stats.reset()
    third = execute_run(fs, run_id, stale_after_s=60)
    assert third.skipped_stages == ["responses"]
    assert openai_sandbox.stats.requests_by_endpoint == {"embeddings": 1}
    assert set(job_rows(fs, run_id)) == {"evaluation_fast", "embedding_fast"}
    assert run_row(fs, run_id).score == score


def test_a_live_run_is_not_claimed_twice(fs, openai_sandbox) -> None:
    run_id = make_fast_run(fs, 3)
    with unit_of_work(get_engine(fs)) as s:
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == run_id).values(status="processing", heartbeat_at=utcnow())
        )
    assert execute_run(fs, run_id) is None
    assert resume_runs(fs, stale_after_s=60) == []
    assert openai_sandbox.stats.requests_by_endpoint == {}


def test_a_stale_after_shorter_than_three_heartbeats_is_refused(fs) -> None:
    """A live run beats every 5 s: with stale-after 5 a second worker could take it over."""
    run_id = make_fast_run(fs, 2)
    for call in (lambda: resume_runs(fs, stale_after_s=5), lambda: execute_run(fs, run_id, stale_after_s=0)):
        with pytest.raises(UsageError, match=r"stale-after must be at least 15 s"):
            call()
    assert run_row(fs, run_id).status == "pending"


def _cache_keys(settings):
    root = settings.data_dir / "objects"
    for path in root.rglob("*.npz"):
        yield path.relative_to(root).as_posix()
