"""The Langfuse sandbox speaks what the official `langfuse` SDK sends and reads: OTLP spans
(protobuf, gzip), score batches, datasets and items, experiments, observations, scores.
Driven by the real SDK over loopback; assertions on what the sandbox stored."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from langfuse import Langfuse, LangfuseOtelSpanAttributes
from langfuse.api.core import ApiError
from opentelemetry import trace as otel_trace

from lse.sandbox.langfuse import LangfuseSandbox


@pytest.fixture
def sb() -> Iterator[LangfuseSandbox]:
    tag = uuid.uuid4().hex[:10]  # the SDK keeps one exporter per public key per process
    with LangfuseSandbox(public_key=f"pk-lf-{tag}", secret_key=f"sk-lf-{tag}") as sandbox:
        yield sandbox


def client(sb: LangfuseSandbox) -> Langfuse:
    return Langfuse(public_key=sb.public_key, secret_key=sb.secret_key, base_url=sb.url, sample_rate=1.0)


def basic(sb: LangfuseSandbox) -> httpx.BasicAuth:
    return httpx.BasicAuth(sb.public_key, sb.secret_key)


def since() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def test_wrong_credentials_are_refused(sb) -> None:
    stranger = Langfuse(public_key=f"pk-lf-{uuid.uuid4().hex}", secret_key=sb.secret_key, base_url=sb.url)
    with pytest.raises(ApiError) as caught:
        stranger.api.projects.get()
    assert caught.value.status_code == 401
    assert httpx.get(f"{sb.url}/api/public/projects").status_code == 401
    assert client(sb).api.projects.get().data[0].id


def test_a_span_sent_twice_is_stored_twice(sb) -> None:
    lf = client(sb)
    trace_id = Langfuse.create_trace_id(seed="twice")
    for _ in range(2):
        with lf.start_as_current_observation(
            trace_context={"trace_id": trace_id},
            name="gen",
            as_type="generation",
            input={"q": 1},
            output={"a": 2},
            model="m",
            usage_details={"input": 3, "output": 4, "total": 7},
            cost_details={"input": 0.5, "output": 0.25, "total": 0.75},
            metadata={"k": "v", "n": 3},
        ):
            pass
    lf.flush()
    obs = sb.state.trace_observations(trace_id)
    assert len(obs) == 2 and sb.state.copies_of_trace(trace_id) == 2
    first = obs[0]
    assert (first["type"], first["model"], first["totalCost"]) == ("GENERATION", "m", 0.75)
    assert first["metadata"] == {"k": "v", "n": 3} and json.loads(first["input"]) == {"q": 1}
    read = lf.api.observations.get_many(trace_id=trace_id, fields="core,basic,usage,model,io").data
    assert len(read) == 2 and read[0].usage_details == {"input": 3, "output": 4, "total": 7}
    trace = httpx.get(f"{sb.url}/api/public/traces/{trace_id}", auth=basic(sb)).json()
    assert len(trace["observations"]) == 2 and trace["output"] == {"a": 2}


def test_the_otlp_endpoint_decodes_gzip_protobuf_and_refuses_what_it_cannot(sb) -> None:
    url = f"{sb.url}/api/public/otel/v1/traces"
    junk = httpx.post(
        url,
        content=gzip.compress(b"not a protobuf"),
        headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"},
        auth=basic(sb),
    )
    assert junk.status_code == 400
    as_json = httpx.post(url, json={"resourceSpans": []}, auth=basic(sb))
    assert as_json.status_code == 415 and "protobuf" in as_json.json()["message"]


def test_a_score_is_overwritten_only_when_id_name_and_day_match(sb) -> None:
    lf = client(sb)
    trace_id = Langfuse.create_trace_id(seed="scored")
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    lf.create_score(name="cos", value=0.1, trace_id=trace_id, score_id="s1", timestamp=day)
    lf.create_score(name="cos", value=0.2, trace_id=trace_id, score_id="s1", timestamp=day + timedelta(hours=5))
    lf.flush()
    assert [s["value"] for s in sb.state.scores] == [0.2]  # same id, name and day: replaced
    lf.create_score(name="cos", value=0.3, trace_id=trace_id, score_id="s1", timestamp=day + timedelta(days=1))
    lf.create_score(name="other", value=0.4, trace_id=trace_id, score_id="s1", timestamp=day)
    lf.flush()
    assert sorted(s["value"] for s in sb.state.scores) == [0.2, 0.3, 0.4]  # new records, same id
    read = lf.api.scores.get_many(trace_id=trace_id, limit=10, fields="details,subject").data
    assert len(read) == 3 and {s.subject.id for s in read} == {trace_id}


def test_a_score_batch_with_a_bad_score_answers_207(sb) -> None:
    body = [
        {"name": "ok", "value": 1.0, "traceId": "t" * 32},
        {"name": "bad", "value": "x", "dataType": "NUMERIC", "traceId": "t" * 32},
        {"name": "naive", "value": 1.0, "traceId": "t" * 32, "timestamp": "2026-01-01T00:00:00"},
    ]
    answer = httpx.post(f"{sb.url}/api/public/scores", json=body, auth=basic(sb))
    assert answer.status_code == 207 and answer.json()["accepted"] == 1 and answer.json()["rejected"] == 2
    assert [s["name"] for s in sb.state.scores] == ["ok"]


def test_datasets_upsert_by_name_and_items_by_id(sb) -> None:
    lf = client(sb)
    first = lf.create_dataset(name="acme/support/golden", description="one")
    again = lf.create_dataset(name="acme/support/golden", description="two")
    assert first.id == again.id and again.description == "two"
    lf.create_dataset_item(dataset_name="acme/support/golden", input={"q": 1}, expected_output={"a": 1}, id="i-1")
    lf.create_dataset_item(dataset_name="acme/support/golden", input={"q": 2}, expected_output={"a": 2}, id="i-1")
    dataset = lf.get_dataset("acme/support/golden")  # a name with slashes, URL-encoded by the SDK
    assert [(i.id, i.input) for i in dataset.items] == [("i-1", {"q": 2})]
    lf.create_dataset(name="other")
    with pytest.raises(ApiError) as caught:
        lf.create_dataset_item(dataset_name="other", input={"q": 3}, id="i-1")
    assert caught.value.status_code == 409  # ids are unique across datasets
    with pytest.raises(ApiError) as missing:
        lf.create_dataset_item(dataset_name="nope", input={"q": 3})
    assert missing.value.status_code == 404


def test_experiment_items_are_listed_newest_first_in_cursor_pages(sb) -> None:
    lf = client(sb)
    A = LangfuseOtelSpanAttributes
    for n in range(5):
        with lf.start_as_current_observation(
            trace_context={"trace_id": Langfuse.create_trace_id(seed=f"e{n}")}, name="item", as_type="generation"
        ) as gen:
            otel_trace.get_current_span().set_attributes(
                {
                    A.EXPERIMENT_ID: "exp-1",
                    A.EXPERIMENT_NAME: "run one",
                    A.EXPERIMENT_ITEM_ID: f"item-{n}",
                    A.EXPERIMENT_ITEM_ROOT_OBSERVATION_ID: gen.id,
                    A.EXPERIMENT_ITEM_EXPECTED_OUTPUT: json.dumps({"a": n}),
                }
            )
    lf.flush()
    seen, cursor = [], None
    while True:
        page = lf.api.experiments.list_items(
            from_start_time=since(), experiment_id="exp-1", limit=2, cursor=cursor, fields="core,io"
        )
        seen += page.data
        cursor = page.meta.cursor
        if not cursor:
            break
    assert len(seen) == 5 and len({i.trace_id for i in seen}) == 5
    assert [i.start_time for i in seen] == sorted((i.start_time for i in seen), reverse=True)
    assert {i.expected_output["a"] for i in seen} == set(range(5))
    (experiment,) = lf.api.experiments.list(from_start_time=since()).data
    assert (experiment.id, experiment.name, experiment.item_count) == ("exp-1", "run one", 5)


def test_unknown_parameters_and_missing_bounds_are_400(sb) -> None:
    bad = httpx.get(f"{sb.url}/api/public/experiment-items", params={"limit": 5}, auth=basic(sb))
    assert bad.status_code == 400 and "fromStartTime" in bad.json()["message"]
    typo = httpx.get(f"{sb.url}/api/public/v2/observations", params={"traceID": "x"}, auth=basic(sb))
    assert typo.status_code == 400 and "traceID" in typo.json()["message"]
    too_many = httpx.get(f"{sb.url}/api/public/v3/scores", params={"limit": 101}, auth=basic(sb))
    assert too_many.status_code == 400


def test_a_stopped_sandbox_comes_back_on_its_port_with_its_data(sb) -> None:
    lf = client(sb)
    lf.create_dataset(name="kept")
    port = sb.port
    sb.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/api/public/health")
    sb.start()
    assert sb.port == port and "kept" in sb.state.datasets
    assert httpx.get(f"{sb.url}/api/public/health").json()["status"] == "OK"
