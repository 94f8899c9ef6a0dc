"""Runs exported to Langfuse through the official SDK, against the Langfuse sandbox.

The sandbox keeps every span it receives (a re-sent trace is a second record, as in
Langfuse) and applies Langfuse's score identity rule, so these tests count what really
crossed the wire. Runs are built through the product path (upload, config, fast run).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from langfuse import Langfuse

from helpers.fast_eval import item_rows, run_row
from helpers.tracing_runs import QUESTIONS, completed_run
from lse.evals.trace_ids import item_trace_id
from lse.tracing import export_run, remote_dataset_ids, tracing_status
from lse.tracing.costs import item_cost


def _client(sb) -> Langfuse:
    return Langfuse(public_key=sb.public_key, secret_key=sb.secret_key, base_url=sb.url)


def _roots_per_trace(sb) -> Counter:
    return Counter(o["traceId"] for o in sb.state.observations if o["isRootObservation"])


def test_a_run_exported_twice_is_in_langfuse_once(lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    run_id = completed_run(lf_settings)
    first = export_run(lf_settings, run_id, target="langfuse")
    assert [(o.state, o.exported, o.sent, o.duplicates) for o in first] == [("confirmed", 5, 5, 0)]
    writes_after_first = dict(sb.state.by_kind)

    second = export_run(lf_settings, run_id, target="langfuse")

    assert [(o.state, o.exported, o.sent) for o in second] == [("confirmed", 5, 0)]
    # nothing was written again: no span, no dataset (item) upsert, no score batch
    for kind in ("otel", "dataset_items", "datasets", "scores"):
        assert sb.state.by_kind[kind] == writes_after_first.get(kind, 0), kind
    seed = run_row(lf_settings, run_id).trace_seed
    expected = {item_trace_id(seed, r.item_id) for r in item_rows(lf_settings, run_id)}
    assert _roots_per_trace(sb) == dict.fromkeys(expected, 1)
    assert len(sb.state.observations) == 5 and len(sb.state.items) == 5
    item_scores = [s for s in sb.state.scores if s["traceId"]]
    assert len(item_scores) == 5 and len({s["id"] for s in item_scores}) == 5
    assert len([s for s in sb.state.scores if s["datasetRunId"]]) == 1
    assert tracing_status(lf_settings, run_id)["langfuse"] == {
        "exported": 5,
        "pending": 0,
        "failed": 0,
        "state": "confirmed",
        "last_error": None,
    }


def test_each_trace_carries_the_item_the_expected_answer_and_lses_own_cost(lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    run_id = completed_run(lf_settings)
    export_run(lf_settings, run_id, target="langfuse")
    run = run_row(lf_settings, run_id)
    rows = {item_trace_id(run.trace_seed, r.item_id): r for r in item_rows(lf_settings, run_id)}
    client = _client(sb)

    since = datetime.now(UTC) - timedelta(hours=1)
    items = client.api.experiments.list_items(from_start_time=since, fields="core,dataset,io,scores", limit=100).data
    assert {i.trace_id for i in items} == set(rows)
    assert len({i.experiment_id for i in items}) == 1
    answers = dict(QUESTIONS)
    total = 0.0
    for item in items:
        row = rows[item.trace_id]
        assert item.input == {"question": item.input["question"]} and item.output == {"answer": row.output}
        assert item.expected_output == {"answer": answers[item.input["question"]]}
        assert [(s.name, s.value) for s in item.scores] == [("cosine_similarity", pytest.approx(row.score))]
        obs = client.api.observations.get_many(trace_id=item.trace_id, fields="core,basic,model,usage").data
        assert len(obs) == 1 and obs[0].type == "GENERATION" and obs[0].model == "gpt-4o-mini"
        lse_cost = item_cost("gpt-4o-mini", "synchronous", row.input_tokens, row.cached_tokens, row.output_tokens)
        assert obs[0].usage_details["total"] == row.input_tokens + row.output_tokens
        assert obs[0].cost_details == pytest.approx(lse_cost.cost)
        total += obs[0].cost_details["total"]
    # The cost Langfuse shows is lse's: per item, and summed over the run.
    assert total == pytest.approx(run.cost["responses"]["cost_usd"], abs=1e-9)
    # The dataset item each trace is linked to is the pushed one, in the tenant's dataset.
    dataset = client.get_dataset("acme/support/golden")
    assert remote_dataset_ids(lf_settings, run.dataset_id) == {"langfuse": dataset.id, "langsmith": None}
    assert {i.id for i in dataset.items} == {i.experiment_item_id for i in items}
    assert {i.experiment_dataset_id for i in items} == {dataset.id}


def test_scores_lost_at_the_target_are_resent_with_the_same_id_and_timestamp(lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    run_id = completed_run(lf_settings)
    sb.faults.status_for = {"/api/public/scores": 503}  # traces land, every score batch is refused
    first = export_run(lf_settings, run_id, target="langfuse")
    assert first[0].state == "sent" and first[0].pending == 5 and sb.state.scores == []
    assert len(sb.state.observations) == 5

    sb.faults.status_for = {}
    second = export_run(lf_settings, run_id, target="langfuse")

    assert (second[0].state, second[0].sent, second[0].exported) == ("confirmed", 0, 5)
    assert len(sb.state.observations) == 5  # traces were not sent again
    stamps = {s["timestamp"] for s in sb.state.scores}
    assert len(stamps) == 1  # every score carries the run's stored timestamp
    # sending them all once more overwrites instead of duplicating (same id, name and day)
    from lse.store.engine import get_engine, unit_of_work
    from lse.store.models.tracing import TracingExportItem

    with unit_of_work(get_engine(lf_settings)) as s:
        for row in s.query(TracingExportItem):
            row.score_confirmed, row.state = False, "sent"
    export_run(lf_settings, run_id, target="langfuse")
    assert len(sb.state.scores) == 6 and len({s["id"] for s in sb.state.scores}) == 6


def test_traces_lost_in_flight_are_sent_again_only_after_the_grace_period(lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    run_id = completed_run(lf_settings)
    sb.faults.status_for = {"/api/public/otel/": 503}
    first = export_run(lf_settings, run_id, target="langfuse")
    assert first[0].state == "sent" and sb.state.observations == []
    sb.faults.status_for = {}

    # Within LSE_TRACING_RESEND_AFTER_S a missing trace may still be in Langfuse's queue: not re-sent.
    soon = export_run(lf_settings, run_id, target="langfuse")
    assert (soon[0].state, soon[0].sent, soon[0].pending) == ("sent", 0, 5) and sb.state.observations == []

    later = export_run(
        lf_settings,
        run_id,
        target="langfuse",
        now=lambda: datetime.now(UTC) + timedelta(seconds=lf_settings.tracing_resend_after_s + 1),
    )
    assert (later[0].state, later[0].sent, later[0].exported) == ("confirmed", 5, 5)
    assert set(_roots_per_trace(sb).values()) == {1} and len(sb.state.observations) == 5


def test_a_failed_item_is_an_error_trace_without_a_score(lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    rows = [*QUESTIONS[:3], ("[[bad-request]] this one is refused", "nothing")]
    run_id = completed_run(lf_settings, rows=rows)
    failed = [r for r in item_rows(lf_settings, run_id) if r.status == "failed"]
    assert len(failed) == 1

    (outcome,) = export_run(lf_settings, run_id, target="langfuse")

    assert (outcome.state, outcome.exported) == ("confirmed", 4)
    bad_trace = item_trace_id(run_row(lf_settings, run_id).trace_seed, failed[0].item_id)
    (obs,) = sb.state.trace_observations(bad_trace)
    assert obs["level"] == "ERROR" and obs["statusMessage"]
    assert sb.state.trace_scores(bad_trace) == []
    assert len([s for s in sb.state.scores if s["traceId"]]) == 3


def test_two_projects_with_a_dataset_of_the_same_name_stay_apart(lf_settings, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    first = completed_run(lf_settings, org="acme", project="support", dataset="golden", run_name="r")
    second = completed_run(lf_settings, org="beta", project="support", dataset="golden", run_name="r")
    export_run(lf_settings, first, target="langfuse")
    export_run(lf_settings, second, target="langfuse")

    assert set(sb.state.datasets) == {"acme/support/golden", "beta/support/golden"}
    by_dataset = Counter(i["datasetName"] for i in sb.state.items.values())
    assert by_dataset == {"acme/support/golden": 5, "beta/support/golden": 5}
    experiments = {o["experiment"]["id"]: o["experiment"]["name"] for o in sb.state.observations}
    assert len(experiments) == 2 and len(set(experiments.values())) == 2
    assert set(_roots_per_trace(sb).values()) == {1} and len(_roots_per_trace(sb)) == 10
