"""`lse worker`: its --stale-after defaults to LSE_EVAL_STALE_AFTER_S, checked before the worker starts."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from helpers.cli import lse_env, run_lse, start_lse
from helpers.fast_eval import fast_settings, make_fast_run, run_row
from helpers.redis_fixtures import redis_url  # noqa: F401 -- a fixture, used by name
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun, utcnow


def test_a_stale_after_setting_under_three_heartbeats_stops_the_worker_before_it_starts(tmp_path) -> None:
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"), LSE_EVAL_HEARTBEAT_S="5", LSE_EVAL_STALE_AFTER_S="10")
    proc = run_lse("worker", env=env)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "stale-after must be at least 15" in lines[0] and "got 10" in lines[0]


@pytest.mark.timeout(90)
def test_the_worker_takes_over_runs_stale_by_the_setting(redis_url, settings, openai_sandbox, tmp_path) -> None:  # noqa: F811 -- the fixture imported above
    fs = fast_settings(settings, openai_sandbox, celery_broker_url=redis_url)
    run_id = make_fast_run(fs, 2)
    with unit_of_work(get_engine(fs)) as s:  # a worker beat 30 s ago and died: stale after 20 s, not after 60
        s.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id)
            .values(status="processing", heartbeat_at=utcnow() - timedelta(seconds=30))
        )
    env = lse_env(
        LSE_DATA_DIR=str(fs.data_dir),
        LSE_CELERY_BROKER_URL=redis_url,
        OPENAI_BASE_URL=openai_sandbox.base_url,
        OPENAI_API_KEY=openai_sandbox.api_key,
        LSE_EVAL_STALE_AFTER_S="20",
    )
    worker = start_lse("worker", "--concurrency", "1", env=env)
    try:
        deadline = time.monotonic() + 45
        while run_row(fs, run_id).status != "completed" and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert run_row(fs, run_id).status == "completed", worker.poll()
    finally:
        worker.terminate()
        worker.communicate(timeout=20)
    assert openai_sandbox.stats.requests_by_endpoint.get("responses") == 2
