"""An export killed mid-way (SIGKILL: no cleanup runs) resumes without sending anything twice."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from helpers.cli import lse_env, start_lse
from helpers.tracing_runs import completed_run
from lse.tracing import export_run, tracing_status

KILL_POINTS = {
    # while the dataset items are being upserted
    "dataset": lambda sb: len(sb.state.items) >= 2,
    # while the traces are on the wire: recorded as sent, stored or not, depending on the race
    "in_flight": lambda sb: sb.state.by_kind["otel"] >= 1,
    # once the traces are stored, before the export confirmed them
    "stored": lambda sb: len(sb.state.observations) >= 1,
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_an_export_killed_mid_way_resumes_and_sends_nothing_twice(point, lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    run_id = completed_run(lf_settings)
    sb.faults.latency_ms = 150  # slow enough to be caught mid-way
    env = lse_env(
        LSE_DATA_DIR=str(lf_settings.data_dir),
        LANGFUSE_PUBLIC_KEY=sb.public_key,
        LANGFUSE_SECRET_KEY=sb.secret_key,
        LANGFUSE_HOST=sb.url,
        LSE_TRACING_TARGETS="langfuse",
        LSE_TRACING_REQUESTS_PER_MINUTE="60000",
        LSE_TRACING_LEASE_S="2",
        LSE_REQUEST_TIMEOUT_S="5",
    )
    proc = start_lse("eval", "export", str(run_id), "--to", "langfuse", env=env)
    deadline = time.monotonic() + 60
    try:
        while not KILL_POINTS[point](sb):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the export never reached the kill point"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    sb.faults.latency_ms = 0
    items_before = len(sb.state.items)

    # The dead exporter's lease runs out; the next export takes over.
    (outcome,) = export_run(
        lf_settings, run_id, target="langfuse", now=lambda: datetime.now(UTC) + timedelta(seconds=5)
    )
    stored = len(sb.state.observations)
    if point == "in_flight" and outcome.state == "sent":
        # The traces were recorded as sent and never arrived: within the grace period they
        # are not sent again (they could still be in the target's queue); after it, once.
        assert stored == 0 and outcome.sent == 0 and outcome.pending == 5
        (outcome,) = export_run(
            lf_settings,
            run_id,
            target="langfuse",
            now=lambda: datetime.now(UTC) + timedelta(seconds=lf_settings.tracing_resend_after_s + 10),
        )
    elif point != "dataset":
        assert outcome.sent == 0  # they were there: confirmed, not sent again

    assert (outcome.state, outcome.exported, outcome.duplicates) == ("confirmed", 5, 0)
    roots = Counter(o["traceId"] for o in sb.state.observations if o["isRootObservation"])
    assert len(roots) == 5 and set(roots.values()) == {1}
    assert len(sb.state.items) == 5 and items_before <= 5
    assert len({s["id"] for s in sb.state.scores}) == len(sb.state.scores) == 6
    assert tracing_status(lf_settings, run_id)["langfuse"]["state"] == "confirmed"


def test_a_langsmith_export_killed_mid_way_resumes_without_duplicates(settings, openai_sandbox) -> None:
    from pydantic import SecretStr

    from helpers.fast_eval import fast_settings
    from lse.sandbox.langsmith import LangSmithSandbox
    from lse.sandbox.langsmith.faults import Faults
    from lse.sandbox.langsmith.ledger import ledger_of

    with LangSmithSandbox([]) as ls:
        ledger = ledger_of(ls.world)
        base = fast_settings(settings, openai_sandbox).model_copy(
            update={
                "langsmith_endpoint": ls.url,
                "langsmith_api_key": SecretStr(ls.api_key),
                "tracing_targets": "langsmith",
            }
        )
        run_id = completed_run(base)
        ls.faults = Faults(latency_ms=120)
        env = lse_env(
            LSE_DATA_DIR=str(settings.data_dir),
            LANGSMITH_ENDPOINT=ls.url,
            LANGSMITH_API_KEY=ls.api_key,
            LSE_TRACING_REQUESTS_PER_MINUTE="60000",
            LSE_TRACING_LEASE_S="2",
        )
        proc = start_lse("eval", "export", str(run_id), "--to", "langsmith", env=env)
        deadline = time.monotonic() + 60
        try:
            while len(ledger.feedback_writes) < 2:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the export never reached the kill point"
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(10)
        ls.clear_faults()

        (outcome,) = export_run(base, run_id, target="langsmith", now=lambda: datetime.now(UTC) + timedelta(seconds=5))

        assert (outcome.state, outcome.exported) == ("confirmed", 5)
        assert len(ledger.run_posts) == 5 and len(set(ledger.run_posts)) == 5
        ids = [f["id"] for f in ledger.feedback_writes]
        assert len(ids) == 6 and len(set(ids)) == 6  # every feedback once, the run summary included
