"""Exports off the critical path: after a run completes, in the background, with the target
down and back; a failed export never touches the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers.fast_eval import run_row
from helpers.tracing_runs import completed_run
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.tracing import TracingExport, TracingExportItem
from lse.tracing import TracingWatcher, after_run_completed, export_pending, tracing_status


def later(seconds: float):
    return lambda: datetime.now(UTC) + timedelta(seconds=seconds)


def test_target_down_leaves_the_run_completed_and_the_export_pending_then_done(lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    run_id = completed_run(lf_settings)
    sb.stop()  # connection refused, as an outage looks

    outcomes = after_run_completed(lf_settings, run_id)

    assert outcomes[0].error and "Langfuse" in outcomes[0].error
    run = run_row(lf_settings, run_id)
    assert run.status == "completed" and run.error_message is None
    status = tracing_status(lf_settings, run_id)["langfuse"]
    assert status["pending"] == 5 and status["exported"] == 0 and status["state"] == "pending"
    assert "unreachable" in status["last_error"]
    # the background pass does not hammer a target that just failed: the retry is scheduled
    assert export_pending(lf_settings) == []

    sb.start()  # same port, same (empty) store
    done = export_pending(lf_settings, now=later(3600))

    assert [(o.run_id, o.state, o.exported) for o in done] == [(run_id, "confirmed", 5)]
    assert tracing_status(lf_settings, run_id)["langfuse"]["state"] == "confirmed"
    assert len(sb.state.observations) == 5
    assert run_row(lf_settings, run_id).status == "completed"


def test_attempts_are_bounded_and_a_failed_export_is_reported_failed(lf_settings, langfuse_sandbox) -> None:
    settings = lf_settings.model_copy(update={"tracing_max_attempts": 2})
    run_id = completed_run(settings)
    langfuse_sandbox.faults.down_status = 503
    after_run_completed(settings, run_id)
    export_pending(settings, now=later(3600))

    status = tracing_status(settings, run_id)["langfuse"]
    assert (status["state"], status["failed"], status["pending"]) == ("failed", 5, 0)
    assert export_pending(settings, now=later(7200)) == []  # given up on: only an explicit export retries


def test_the_background_pass_exports_recently_completed_runs_nobody_queued(lf_settings, langfuse_sandbox) -> None:
    run_id = completed_run(lf_settings)
    assert tracing_status(lf_settings, run_id)["langfuse"]["state"] == "not_queued"

    done = export_pending(lf_settings)

    assert [(o.run_id, o.state) for o in done] == [(run_id, "confirmed")]
    assert export_pending(lf_settings) == []  # nothing left to do


def test_nothing_is_exported_where_nothing_is_configured(settings, openai_sandbox) -> None:
    from helpers.fast_eval import fast_settings

    plain = fast_settings(settings, openai_sandbox)
    run_id = completed_run(plain)
    assert after_run_completed(plain, run_id) == []
    assert export_pending(plain) == []
    assert tracing_status(plain, run_id) == {"langfuse": None, "langsmith": None}
    with unit_of_work(get_engine(plain)) as s:
        assert s.query(TracingExport).count() == 0 and s.query(TracingExportItem).count() == 0


def test_the_watcher_exports_in_the_background(lf_settings, langfuse_sandbox) -> None:
    run_id = completed_run(lf_settings)
    with TracingWatcher(lf_settings, interval_s=0.05) as watcher:
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while tracing_status(lf_settings, run_id)["langfuse"]["state"] != "confirmed":
            assert datetime.now(UTC) < deadline, "the watcher did not export the run"
            import time

            time.sleep(0.05)
    assert watcher.passes >= 1 and len(langfuse_sandbox.state.observations) == 5
