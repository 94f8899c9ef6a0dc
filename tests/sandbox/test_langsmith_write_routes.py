"""The LangSmith sandbox's write routes, driven by the real `langsmith` SDK: datasets,
examples, experiments (projects with a reference dataset), runs through POST /runs,
/runs/batch and the (zstd-compressed) multipart ingest the SDK uses when it batches in
the background, and feedback. A run id it already has is a 409; a feedback id sent twice
is stored twice. Written runs are read back through the sandbox's read routes."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from langsmith.uuid import uuid7

import langsmith
from helpers.langsmith_fixtures import sdk_client
from langsmith import utils as ls_utils
from lse.sandbox.langsmith import LangSmithSandbox
from lse.sandbox.langsmith.ledger import ledger_of


@pytest.fixture
def sb():
    with LangSmithSandbox([]) as sandbox:
        yield sandbox


def dotted(start: datetime, run_id: str) -> str:
    return f"{start.strftime('%Y%m%dT%H%M%S%fZ')}{run_id}"


def root_run(run_id: str, **extra) -> dict:
    now = datetime.now(UTC)
    return {
        "id": run_id,
        "trace_id": run_id,
        "dotted_order": dotted(now, run_id),
        "name": "item",
        "run_type": "llm",
        "inputs": {"question": "q"},
        "outputs": {"answer": "a"},
        "start_time": now,
        "end_time": now,
        **extra,
    }


def test_datasets_are_unique_by_name_and_examples_round_trip(sb) -> None:
    client = sdk_client(sb)
    dataset = client.create_dataset("acme/support/golden", description="d")
    with pytest.raises(ls_utils.LangSmithConflictError):
        client.create_dataset("acme/support/golden")
    ids = [str(uuid7()) for _ in range(3)]
    client.create_examples(
        dataset_id=dataset.id,
        examples=[
            {"id": i, "inputs": {"q": n}, "reference_outputs": {"a": n}, "metadata": {"n": n}}
            for n, i in enumerate(ids)
        ],
    )
    listed = list(client.list_examples(dataset_id=dataset.id))
    assert sorted(str(e.id) for e in listed) == sorted(ids)
    assert {str(e.id): e.outputs for e in listed}[ids[1]] == {"a": 1}
    client.update_examples(dataset_id=dataset.id, updates=[{"id": ids[1], "metadata": {"n": 10}}])
    assert {str(e.id): e.metadata for e in client.list_examples(dataset_id=dataset.id)}[ids[1]] == {"n": 10}
    with pytest.raises(ls_utils.LangSmithError):
        client.create_examples(dataset_id=dataset.id, examples=[{"id": ids[0], "inputs": {"q": 0}}])
    assert client.read_dataset(dataset_name="acme/support/golden").example_count == 3


def test_a_run_id_posted_twice_is_a_409_the_sdk_takes_as_done(sb) -> None:
    client = sdk_client(sb)
    ledger = ledger_of(sb.world)
    dataset = client.create_dataset("d")
    example = str(uuid7())
    client.create_examples(dataset_id=dataset.id, examples=[{"id": example, "inputs": {"question": "q"}}])
    project = client.create_project("experiment", reference_dataset_id=dataset.id, upsert=True)
    again = client.create_project("experiment", reference_dataset_id=dataset.id, upsert=True)
    assert again.id == project.id and str(again.reference_dataset_id) == str(dataset.id)
    with pytest.raises(ls_utils.LangSmithConflictError):
        client.create_project("experiment")
    run_id = str(uuid7())
    body = root_run(run_id, reference_example_id=example, session_id=project.id)
    client.create_run(**body)
    client.create_run(**body)  # 409, swallowed by the SDK
    assert ledger.run_posts == [run_id] and ledger.run_conflicts == [run_id]
    read = client.read_run(run_id)
    assert str(read.reference_example_id) == example and str(read.session_id) == str(project.id)
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.create_run(**root_run(str(uuid7()), reference_example_id=str(uuid7()), session_id=project.id))
    client.update_project(project.id, end_time=datetime.now(UTC))
    assert client.read_project(project_id=project.id).end_time is not None


def test_batch_ingest_and_background_multipart_store_each_run_once(sb) -> None:
    ledger = ledger_of(sb.world)
    client = sdk_client(sb)
    batch_ids = [str(uuid7()) for _ in range(3)]
    client.batch_ingest_runs(create=[root_run(i, session_name="batched") for i in batch_ids])
    client.batch_ingest_runs(create=[root_run(i, session_name="batched") for i in batch_ids])  # 409, swallowed
    assert sorted(ledger.run_posts) == sorted(batch_ids) and len(ledger.run_conflicts) == 3

    # The SDK's default: background batching over /runs/multipart, zstd-compressed.
    background = langsmith.Client(api_url=sb.url, api_key=sb.api_key)
    ids = [str(uuid7()) for _ in range(4)]
    for run_id in ids:
        background.create_run(**root_run(run_id, session_name="background"))
    background.flush()
    deadline = time.monotonic() + 10
    while not set(ids) <= set(ledger.run_posts):
        assert time.monotonic() < deadline, "background runs never arrived"
        time.sleep(0.05)
    assert any("/runs/multipart" in path for _, path, _ in sb.counters.requests)
    assert {sb.world.runs[i].project for i in ids} == {"background"}


def test_feedback_sent_twice_with_one_id_is_stored_twice(sb) -> None:
    client = sdk_client(sb)
    ledger = ledger_of(sb.world)
    run_id = str(uuid7())
    client.create_run(**root_run(run_id, session_name="p"))
    session = client.read_project(project_name="p").id
    feedback_id = str(uuid.uuid4())
    for _ in range(2):
        client.create_feedback(run_id=run_id, key="cosine", score=0.5, feedback_id=feedback_id, session_id=session)
    assert ledger.feedback_count(feedback_id) == 2
    with pytest.raises(ls_utils.LangSmithError), pytest.warns(Warning, match="session_id"):
        client.create_feedback(run_id=run_id, key="cosine", score=0.5)  # the SDK's deprecated form
    client.update_feedback(feedback_id, score=0.9)
    assert client.read_feedback(feedback_id).score == 0.9
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.update_feedback(str(uuid.uuid4()), score=0.1)


def test_a_bad_dotted_order_is_refused(sb) -> None:
    client = sdk_client(sb)
    run_id = str(uuid7())
    body = root_run(run_id, session_name="p")
    body["dotted_order"] = dotted(datetime.now(UTC), str(uuid7())) + "." + dotted(datetime.now(UTC), run_id)
    with pytest.raises(ls_utils.LangSmithError):
        client.create_run(**body)
    assert ledger_of(sb.world).run_posts == []
