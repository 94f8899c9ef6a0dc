"""A user's cancel stops a fast run between calls: finished items are kept, the rest end failed
saying why, nothing is scored, the cost is what was spent, and the run ends `cancelled`."""

from __future__ import annotations

import threading
import time

from helpers.fast_eval import fast_settings, item_rows, make_fast_run, run_row
from lse.evals.cancel import cancel_run
from lse.evals.fast import execute_run


def test_cancel_stops_a_fast_run_between_calls_and_keeps_what_it_finished(settings, openai_sandbox) -> None:
    fs = fast_settings(
        settings, openai_sandbox, eval_heartbeat_s=0.1, eval_stale_after_s=0.5, eval_fast_api_concurrency=2
    )
    openai_sandbox.faults.responses_latency_ms = 150
    run_id = make_fast_run(fs, 30)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(execute_run(fs, run_id)))
    worker.start()
    deadline = time.monotonic() + 20
    while len(item_rows(fs, run_id)) < 4:
        assert time.monotonic() < deadline, "no item finished"
        time.sleep(0.02)
    requested = cancel_run(fs, None, run_id)
    assert requested.status == "processing" and requested.cancel_requested_at is not None
    worker.join(20)
    (out,) = outcome
    run = run_row(fs, run_id)
    assert out.status == run.status == "cancelled" and run.error_message == "cancelled by the user"
    rows = item_rows(fs, run_id)
    done = [r for r in rows if r.status == "succeeded"]
    stopped = [r for r in rows if r.error_code == "run_cancelled"]
    assert len(rows) == 30 and len(done) >= 4 and len(done) + len(stopped) == 30 and stopped
    assert all(r.error == "not attempted: the run was cancelled" for r in stopped)
    calls = openai_sandbox.stats.requests_by_endpoint.get("responses", 0)
    assert calls <= len(done) + 2  # at most the calls in flight when the cancel was seen
    assert run.score is None and run.cost["responses"]["cost_usd"] > 0 and run.cost["pricing"] == "synchronous"
    assert "embeddings" not in openai_sandbox.stats.requests_by_endpoint


def test_a_cancelled_fast_run_left_behind_is_ended_by_whoever_takes_it_over(settings, openai_sandbox) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from lse.store.engine import get_engine, unit_of_work
    from lse.store.models.evaluation import EvaluationRun, utcnow

    fs = fast_settings(settings, openai_sandbox)
    run_id = make_fast_run(fs, 5)
    with unit_of_work(get_engine(fs)) as s:  # its worker died long ago
        s.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id)
            .values(status="processing", heartbeat_at=utcnow() - timedelta(hours=1))
        )
    assert cancel_run(fs, None, run_id).status == "processing"
    out = execute_run(fs, run_id)
    assert out is not None and out.status == "cancelled"
    assert openai_sandbox.stats.requests_by_endpoint == {}
    assert {r.error_code for r in item_rows(fs, run_id)} == {"run_cancelled"}
