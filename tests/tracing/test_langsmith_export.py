"""Datasets pushed and runs exported to LangSmith through the official SDK, against the
LangSmith sandbox's write routes (409 on a run id it has; feedback ids it stores twice)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from helpers.fast_eval import fast_settings, item_rows, run_row
from helpers.tracing_runs import completed_run
from lse.sandbox.langsmith import LangSmithSandbox
from lse.sandbox.langsmith.faults import Faults
from lse.sandbox.langsmith.ledger import ledger_of
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDataset
from lse.store.models.tracing import TracingExportItem
from lse.tenancy import ensure_tenant
from lse.tracing import after_run_completed, export_pending, export_run, push_dataset, tracing_status
from lse.tracing.costs import item_cost


@pytest.fixture
def ls_sandbox():
    with LangSmithSandbox([]) as sb:
        yield sb


@pytest.fixture
def ls_settings(settings, openai_sandbox, ls_sandbox):
    return fast_settings(settings, openai_sandbox).model_copy(
        update={
            "langsmith_endpoint": ls_sandbox.url,
            "langsmith_api_key": SecretStr(ls_sandbox.api_key),
            "tracing_targets": "langsmith",
            "tracing_requests_per_minute": 60_000,
            "request_timeout_s": 3.0,
        }
    )


def _dataset_of(settings, run_id: int) -> int:
    return run_row(settings, run_id).dataset_id


def test_a_dataset_pushed_twice_is_created_once_with_stable_uuid7_ids(ls_settings, ls_sandbox) -> None:
    ledger = ledger_of(ls_sandbox.world)
    run_id = completed_run(ls_settings)
    tenant = ensure_tenant(ls_settings, "acme", "support")
    ids = {"organization_id": tenant.organization_id, "project_id": tenant.project_id}
    first = push_dataset(ls_settings, _dataset_of(ls_settings, run_id), **ids)
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    second = push_dataset(ls_settings, _dataset_of(ls_settings, run_id), **ids)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert second.remote_id == first.remote_id and len(ledger.datasets) == 1
    (dataset,) = ledger.datasets.values()
    assert dataset["name"] == "acme/support/golden" and dataset["example_count"] == 5
    assert all(uuid.UUID(e).version == 7 for e in ledger.examples)

    # an example deleted at the target is recreated under its stored id, the rest untouched
    gone = next(iter(ledger.examples))
    del ledger.examples[gone]
    third = push_dataset(ls_settings, _dataset_of(ls_settings, run_id), **ids)
    assert (third.created, third.unchanged) == (1, 4) and gone in ledger.examples


def test_another_projects_dataset_is_not_found(ls_settings) -> None:
    from lse.errors import NotFoundError

    run_id = completed_run(ls_settings)
    other = ensure_tenant(ls_settings, "beta", "support")
    with pytest.raises(NotFoundError):
        push_dataset(
            ls_settings,
            _dataset_of(ls_settings, run_id),
            organization_id=other.organization_id,
            project_id=other.project_id,
        )


def test_a_run_becomes_one_experiment_with_one_run_per_item_exported_once(ls_settings, ls_sandbox) -> None:
    ledger = ledger_of(ls_sandbox.world)
    run_id = completed_run(ls_settings)
    (first,) = export_run(ls_settings, run_id, target="langsmith")
    assert (first.state, first.exported, first.sent) == ("confirmed", 5, 5)
    (second,) = export_run(ls_settings, run_id, target="langsmith")
    assert (second.state, second.sent) == ("confirmed", 0)

    assert len(ledger.run_posts) == 5 and len(set(ledger.run_posts)) == 5 and ledger.run_conflicts == []
    assert len(ledger.feedback_writes) == 6 and len({f["id"] for f in ledger.feedback_writes}) == 6
    (dataset,) = ledger.datasets.values()
    (project_id,) = ledger.sessions_created
    project = ls_sandbox.world.project_by_id(project_id)
    assert project["reference_dataset_id"] == dataset["id"] and project["end_time"] is not None
    assert project["name"].startswith("acme/support/try-1 [lse-")
    results = {r.item_id: r for r in item_rows(ls_settings, run_id)}
    with unit_of_work(get_engine(ls_settings)) as s:
        stored = {r.remote_trace_id: r for r in s.query(TracingExportItem)}
    for run_uuid in ledger.run_posts:
        assert uuid.UUID(run_uuid).version == 7
        data = ls_sandbox.world.runs[run_uuid].data
        result = results[stored[run_uuid].item_id]
        example = ledger.examples[data["reference_example_id"]]
        assert example["inputs"] == data["inputs"] and data["session_id"] == project_id
        assert data["outputs"]["answer"] == result.output
        lse_cost = item_cost(
            "gpt-4o-mini", "synchronous", result.input_tokens, result.cached_tokens, result.output_tokens
        )
        assert float(data["total_cost"]) == pytest.approx(lse_cost.total)
        (feedback,) = ls_sandbox.world.feedback_for_run(run_uuid)
        assert (feedback["key"], feedback["score"]) == ("cosine_similarity", pytest.approx(result.score))


def test_a_resent_run_is_answered_409_and_counted_as_there(ls_settings, ls_sandbox) -> None:
    """A crash after the runs landed but before they were recorded: the next export posts
    them again, LangSmith answers 409, and that means "already there"."""
    ledger = ledger_of(ls_sandbox.world)
    run_id = completed_run(ls_settings)
    export_run(ls_settings, run_id, target="langsmith")
    with unit_of_work(get_engine(ls_settings)) as s:
        for row in s.query(TracingExportItem):
            row.state, row.trace_confirmed, row.score_confirmed = "sent", False, False

    (outcome,) = export_run(ls_settings, run_id, target="langsmith")

    assert (outcome.state, outcome.exported) == ("confirmed", 5)
    assert sorted(ledger.run_conflicts) == sorted(ledger.run_posts) and len(ledger.run_posts) == 5
    # feedback that might have left is looked up first, so none is written twice
    assert len(ledger.feedback_writes) == 6 and len({f["id"] for f in ledger.feedback_writes}) == 6


def test_langsmith_down_leaves_the_run_completed_then_the_export_finishes(ls_settings, ls_sandbox) -> None:
    run_id = completed_run(ls_settings)
    ls_sandbox.faults = Faults(server_error_every=1, server_error_status=503)
    (failed,) = after_run_completed(ls_settings, run_id)
    assert failed.error and run_row(ls_settings, run_id).status == "completed", failed
    assert tracing_status(ls_settings, run_id)["langsmith"]["pending"] == 5

    ls_sandbox.clear_faults()
    (done,) = export_pending(ls_settings, now=lambda: datetime.now(UTC) + timedelta(hours=1))
    assert (done.state, done.exported) == ("confirmed", 5)
    assert len(ledger_of(ls_sandbox.world).run_posts) == 5


def test_datasets_from_archived_verdicts_keep_their_lineage(ls_settings, ls_sandbox) -> None:
    from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
    from lse.datasets.from_archive import dataset_from_archive
    from lse.store.loader import load_day

    runs = []
    for i in range(3):
        run = make_run(inputs={"question": f"archived question {i}?"}, outputs={"answer": f"answer {i}"}, feedback=[])
        run["feedback_records"] = [make_feedback(run, verdict="PASS")]
        runs.append(run)
    write_day(ls_settings, PROJECT, DAY, runs)
    load_day(ls_settings, PROJECT, DAY)
    tenant = ensure_tenant(ls_settings, "acme", "support")
    built = dataset_from_archive(ls_settings, tenant, name="approved", source_project=PROJECT, days=[DAY])

    push_dataset(ls_settings, built.dataset_id, organization_id=tenant.organization_id, project_id=tenant.project_id)

    examples = list(ledger_of(ls_sandbox.world).examples.values())
    by_question = {e["inputs"]["question"]: e["metadata"] for e in examples}
    for run in runs:
        meta = by_question[run["inputs"]["question"]]
        assert meta["source_run_id"] == run["id"] and meta["source_trace_id"] == run["trace_id"]
        assert meta["source_project"] == PROJECT
    with unit_of_work(get_engine(ls_settings)) as s:
        assert s.get(EvaluationDataset, built.dataset_id).name == "approved"
