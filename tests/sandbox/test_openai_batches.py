"""The sandbox's Files and Batches APIs, driven through the real `openai` SDK (retries off).

The batch clock is frozen per test and moved with `sandbox.batches.advance(seconds)`, so a
24-hour window passes in microseconds and every status is reached deterministically.
Assertions are on what the SDK parsed and on `sandbox.batches.stats`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.responses import Response

from lse.sandbox.openai import OpenAISandbox, compute_usage, sandbox_answer, sandbox_embedding

MODEL = "gpt-4o-mini"


@pytest.fixture
def sb() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(api_key="sk-sandbox") as sandbox:
        sandbox.batches.clock.freeze()
        yield sandbox


@pytest.fixture
def client(sb: OpenAISandbox) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=sb.base_url, api_key=sb.api_key, max_retries=0)
    yield c
    c.close()


def question(i: int) -> str:
    return f"Question {i}: which river flows through the old city and reaches the sea in the east"


def line(i: int, *, body: dict[str, Any] | None = None, url: str = "/v1/responses", cid: str | None = None) -> dict:
    return {
        "custom_id": cid or f"c{i}",
        "method": "POST",
        "url": url,
        "body": body if body is not None else {"model": MODEL, "input": question(i), "max_output_tokens": 200},
    }


def jsonl(lines: list[dict]) -> bytes:
    return b"".join(json.dumps(x).encode() + b"\n" for x in lines)


def upload(client: openai.OpenAI, data: bytes, name: str = "requests.jsonl") -> str:
    return client.files.create(file=(name, data), purpose="batch").id


def submit(client: openai.OpenAI, lines: list[dict], endpoint: str = "/v1/responses", **kwargs: Any):
    file_id = upload(client, jsonl(lines))
    return client.batches.create(input_file_id=file_id, endpoint=endpoint, completion_window="24h", **kwargs)  # type: ignore[arg-type]  -- endpoint is a str variable


def read_lines(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines() if x]


def run_to_end(sb: OpenAISandbox, client: openai.OpenAI, batch_id: str):
    sb.batches.advance(60)
    return client.batches.retrieve(batch_id)


# --- Files ----------------------------------------------------------------------------


def test_file_upload_retrieve_list_content_and_delete(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    data = jsonl([line(0), line(1)])
    created = client.files.create(file=("a.jsonl", data), purpose="batch")
    assert (created.object, created.purpose, created.bytes, created.filename) == ("file", "batch", len(data), "a.jsonl")
    assert created.expires_at == created.created_at + 30 * 86_400  # batch files live 30 days by default
    other = client.files.create(file=("notes.txt", b"hello"), purpose="user_data")
    assert other.expires_at is None

    assert client.files.retrieve(created.id).id == created.id
    assert client.files.content(created.id).content == data
    assert [f.id for f in client.files.list(purpose="batch")] == [created.id]
    assert [f.id for f in client.files.list()] == [other.id, created.id]  # newest first
    assert [f.id for f in client.files.list(order="asc")] == [created.id, other.id]
    page = client.files.list(limit=1)
    assert [f.id for f in page.data] == [other.id] and page.has_more is True

    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(created.id)
    assert sb.batches.stats.files_uploaded == 2


def test_upload_refusals(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match=r"Must be \.jsonl"):
        client.files.create(file=("requests.csv", b"{}\n"), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="purpose"):
        client.files.create(file=("a.jsonl", b"{}\n"), purpose="nonsense")  # type: ignore[arg-type]  -- refused on purpose
    with pytest.raises(openai.BadRequestError) as exc:
        client.files.create(
            file=("a.jsonl", b"{}\n"), purpose="batch", expires_after={"anchor": "created_at", "seconds": 60}
        )
    assert exc.value.param == "expires_after.seconds"
    sb.batches.faults.max_file_bytes = 10
    with pytest.raises(openai.BadRequestError, match="too large"):
        client.files.create(file=("a.jsonl", b"x" * 11), purpose="batch")
    bad_key = openai.OpenAI(base_url=sb.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.files.create(file=("a.jsonl", b"{}\n"), purpose="batch")
    assert sb.batches.stats.files_uploaded == 0


def test_file_expires_after_on_the_sandbox_clock(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    f = client.files.create(
        file=("a.jsonl", b"{}\n"), purpose="batch", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    assert f.expires_at == f.created_at + 3600
    sb.batches.advance(3599)
    assert client.files.content(f.id).content == b"{}\n"
    sb.batches.advance(2)
    with pytest.raises(openai.NotFoundError):
        client.files.content(f.id)


# --- creating ---------------------------------------------------------------------------


def test_create_refuses_what_the_api_refuses_at_once(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    fid = upload(client, jsonl([line(0)]))

    def create(**kwargs: Any) -> openai.BadRequestError:
        args: dict[str, Any] = {"input_file_id": fid, "endpoint": "/v1/responses", "completion_window": "24h", **kwargs}
        with pytest.raises(openai.BadRequestError) as exc:
            client.batches.create(**args)
        return exc.value

    assert create(completion_window="1h").param == "completion_window"
    assert create(endpoint="/v1/nothing").param == "endpoint"
    assert create(metadata={f"k{i}": "v" for i in range(17)}).param == "metadata"
    assert create(metadata={"k" * 65: "v"}).param == "metadata"
    assert create(metadata={"k": "v" * 513}).param == "metadata"
    assert create(input_file_id="file-missing").param == "input_file_id"
    assert create(output_expires_after={"anchor": "created_at", "seconds": 10}).param == "output_expires_after.seconds"
    assert create(extra_body={"priority": "high"}).param == "priority"
    user_file = client.files.create(file=("a.jsonl", jsonl([line(0)])), purpose="user_data").id
    assert create(input_file_id=user_file).param == "input_file_id"
    assert sb.batches.stats.batches_created == 0
    ok = client.batches.create(
        input_file_id=fid, endpoint="/v1/responses", completion_window="24h", metadata={f"k{i}": "v" for i in range(16)}
    )
    assert ok.status == "validating" and ok.metadata == {f"k{i}": "v" for i in range(16)}


# --- the life of a batch --------------------------------------------------------------


def test_a_batch_runs_through_every_status_with_exact_results(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.validate_s, sb.batches.faults.process_s, sb.batches.faults.finalize_s = 10, 100, 5
    batch = submit(client, [line(i) for i in range(10)], metadata={"lse_key": "abc"})
    assert batch.status == "validating"
    assert batch.expires_at == batch.created_at + 86_400
    assert batch.request_counts is not None and batch.request_counts.total == 0

    sb.batches.advance(10)
    b = client.batches.retrieve(batch.id)
    assert b.status == "in_progress" and b.in_progress_at == batch.created_at + 10 and b.model == MODEL
    sb.batches.advance(45)  # lines run evenly over 100 s
    b = client.batches.retrieve(batch.id)
    assert b.status == "in_progress" and b.request_counts is not None
    assert (b.request_counts.total, b.request_counts.completed) == (10, 4)
    sb.batches.advance(55)
    b = client.batches.retrieve(batch.id)
    assert b.status == "finalizing" and b.output_file_id is None
    sb.batches.advance(5)
    b = client.batches.retrieve(batch.id)
    assert b.status == "completed" and b.completed_at == batch.created_at + 115
    assert b.request_counts is not None and (b.request_counts.completed, b.request_counts.failed) == (10, 0)
    assert b.error_file_id is None and b.metadata == {"lse_key": "abc"}

    out = read_lines(client, b.output_file_id)
    assert sorted(x["custom_id"] for x in out) == sorted(f"c{i}" for i in range(10))
    total_in = total_out = 0
    for x in out:
        assert x["error"] is None and x["response"]["status_code"] == 200 and x["id"].startswith("batch_req_")
        i = int(x["custom_id"][1:])
        response = Response.model_validate(x["response"]["body"])
        assert response.status == "completed"
        assert response.output_text == sandbox_answer(MODEL, None, question(i))
        usage = compute_usage(MODEL, None, question(i), response.output_text)
        assert response.usage is not None and response.usage.input_tokens == usage.input_tokens
        total_in += usage.input_tokens
        total_out += usage.output_tokens
    assert b.usage is not None and (b.usage.input_tokens, b.usage.output_tokens) == (total_in, total_out)
    assert sb.batches.stats.lines_executed == {f"c{i}": 1 for i in range(10)}


def test_output_order_is_shuffled_and_seeded(client: openai.OpenAI, sb: OpenAISandbox) -> None:
    lines = [line(i) for i in range(30)]
    b = run_to_end(sb, client, submit(client, lines).id)
    order = [x["custom_id"] for x in read_lines(client, b.output_file_id)]
    assert sorted(order) == sorted(x["custom_id"] for x in lines)
    assert order != [x["custom_id"] for x in lines]
    with OpenAISandbox() as again:
        again.batches.clock.freeze()
        c2 = openai.OpenAI(base_url=again.base_url, api_key=again.api_key, max_retries=0)
        b2 = run_to_end(again, c2, submit(c2, lines).id)
        assert [x["custom_id"] for x in read_lines(c2, b2.output_file_id)] == order  # same seed, same order
    sb.batches.faults.shuffle_output = False
    b3 = run_to_end(sb, client, submit(client, lines).id)
    assert [x["custom_id"] for x in read_lines(client, b3.output_file_id)] == [x["custom_id"] for x in lines]


def test_parameter_errors_become_400_lines_with_error_null_and_both_files(
    sb: OpenAISandbox, client: openai.OpenAI
) -> None:
    lines = [
        line(0),
        line(1, body={"model": MODEL, "input": "hi there", "max_output_tokens": 5}),
        line(2, body={"model": MODEL, "input": "please [[bad-request]] this"}),
        line(3),
    ]
    b = run_to_end(sb, client, submit(client, lines).id)
    assert b.status == "completed" and b.output_file_id and b.error_file_id
    assert b.request_counts is not None and (b.request_counts.completed, b.request_counts.failed) == (2, 2)
    errors = {x["custom_id"]: x for x in read_lines(client, b.error_file_id)}
    assert set(errors) == {"c1", "c2"}
    for x in errors.values():
        assert x["error"] is None and x["response"]["status_code"] == 400
    assert errors["c1"]["response"]["body"]["error"]["param"] == "max_output_tokens"
    assert errors["c2"]["response"]["body"]["error"]["param"] == "input"
    assert {x["custom_id"] for x in read_lines(client, b.output_file_id)} == {"c0", "c3"}


def test_line_error_every_gives_500_lines(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.line_error_every = 3
    b = run_to_end(sb, client, submit(client, [line(i) for i in range(9)]).id)
    errors = read_lines(client, b.error_file_id)
    assert sorted(x["custom_id"] for x in errors) == ["c2", "c5", "c8"]
    assert all(x["response"]["status_code"] == 500 and x["error"] is None for x in errors)
    assert errors[0]["response"]["body"]["error"]["type"] == "server_error"


def test_all_fail_is_completed_with_no_output_file(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.all_fail = True
    b = run_to_end(sb, client, submit(client, [line(i) for i in range(9)]).id)
    assert b.status == "completed" and b.output_file_id is None and b.error_file_id is not None
    assert b.request_counts is not None and (
        b.request_counts.completed,
        b.request_counts.failed,
        b.request_counts.total,
    ) == (0, 9, 9)
    assert len(read_lines(client, b.error_file_id)) == 9


def test_incomplete_every_gives_200_lines_with_status_incomplete(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.incomplete_every = 2
    b = run_to_end(sb, client, submit(client, [line(i) for i in range(4)]).id)
    out = {x["custom_id"]: x for x in read_lines(client, b.output_file_id)}
    assert b.error_file_id is None and len(out) == 4
    statuses = {cid: x["response"]["body"]["status"] for cid, x in out.items()}
    assert statuses == {"c0": "completed", "c1": "incomplete", "c2": "completed", "c3": "incomplete"}
    assert all(x["response"]["status_code"] == 200 for x in out.values())
    assert out["c1"]["response"]["body"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_expired_batch_keeps_partial_output_and_marks_the_rest_batch_expired(
    sb: OpenAISandbox, client: openai.OpenAI
) -> None:
    sb.batches.faults.expire_after_lines = 3
    batch = submit(client, [line(i) for i in range(8)])
    sb.batches.advance(3600)
    assert client.batches.retrieve(batch.id).status == "in_progress"
    sb.batches.advance(86_400)
    b = client.batches.retrieve(batch.id)
    assert b.status == "expired" and b.expired_at == batch.expires_at
    assert {x["custom_id"] for x in read_lines(client, b.output_file_id)} == {"c0", "c1", "c2"}
    errors = read_lines(client, b.error_file_id)
    assert len(errors) == 5
    assert all(x["response"] is None and x["error"]["code"] == "batch_expired" for x in errors)
    assert len(sb.batches.stats.lines_executed) == 3


def test_cancel_mid_run_keeps_what_ran(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.validate_s, sb.batches.faults.process_s, sb.batches.faults.cancel_delay_s = 0, 10, 30
    batch = submit(client, [line(i) for i in range(10)])
    sb.batches.advance(3.5)
    c = client.batches.cancel(batch.id)
    assert c.status == "cancelling" and c.cancelling_at is not None
    assert client.batches.cancel(batch.id).status == "cancelling"  # asking again changes nothing
    sb.batches.advance(29)
    assert client.batches.retrieve(batch.id).status == "cancelling"
    sb.batches.advance(1)
    b = client.batches.retrieve(batch.id)
    assert b.status == "cancelled" and b.cancelled_at == c.cancelling_at + 30
    assert {x["custom_id"] for x in read_lines(client, b.output_file_id)} == {"c0", "c1", "c2"}
    errors = read_lines(client, b.error_file_id)
    assert len(errors) == 7 and {x["error"]["code"] for x in errors} == {"batch_cancelled"}
    assert sb.batches.stats.lines_executed == {"c0": 1, "c1": 1, "c2": 1}
    with pytest.raises(openai.BadRequestError, match="cancelled"):
        client.batches.cancel(batch.id)


def test_validation_failures_report_lines_and_run_nothing(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    raw = (
        jsonl([line(0)])
        + b"{not json\n"
        + jsonl([line(2, cid="c0"), line(3, url="/v1/embeddings"), line(4, body={"model": "gpt-4.1", "input": "x"})])
    )
    batch = client.batches.create(input_file_id=upload(client, raw), endpoint="/v1/responses", completion_window="24h")
    b = run_to_end(sb, client, batch.id)
    assert b.status == "failed" and b.failed_at is not None
    assert b.output_file_id is None and b.error_file_id is None and b.request_counts is None
    assert b.errors is not None and b.errors.data is not None
    got = [(e.code, e.line) for e in b.errors.data]
    assert got == [("invalid_json_line", 2), ("duplicate_custom_id", 3), ("url_mismatch", 4), ("model_mismatch", 5)]
    assert sb.batches.stats.lines_executed == {}

    empty = run_to_end(
        sb,
        client,
        client.batches.create(input_file_id=upload(client, b""), endpoint="/v1/responses", completion_window="24h").id,
    )
    assert empty.errors is not None and empty.errors.data is not None
    assert [(e.code, e.line) for e in empty.errors.data] == [("empty_file", None)]

    sb.batches.faults.max_requests = 2
    many = run_to_end(sb, client, submit(client, [line(i) for i in range(3)]).id)
    assert many.errors is not None and many.errors.data is not None and many.errors.data[0].code == "too_many_tasks"
    sb.batches.faults.max_requests = 50_000

    sb.batches.faults.validation_fail_lines = (2,)
    rejected = run_to_end(sb, client, submit(client, [line(i) for i in range(3)]).id)
    assert rejected.errors is not None and rejected.errors.data is not None
    assert [(e.line, e.param) for e in rejected.errors.data] == [(2, "body")]


def test_enqueued_token_limit_fails_later_batches_with_token_limit_exceeded(
    sb: OpenAISandbox, client: openai.OpenAI
) -> None:
    sb.batches.faults.process_s = 1000
    sb.batches.faults.enqueued_token_limit = 200
    first = submit(client, [line(i) for i in range(5)])  # ~18 tokens a line
    sb.batches.advance(2)
    assert client.batches.retrieve(first.id).status == "in_progress"
    second = submit(client, [line(i, cid=f"d{i}") for i in range(10)])
    sb.batches.advance(2)
    b = client.batches.retrieve(second.id)
    assert b.status == "failed" and b.errors is not None and b.errors.data is not None
    (error,) = b.errors.data
    assert error.code == "token_limit_exceeded" and error.line is None and "Limit: 200" in (error.message or "")


def test_dropped_duplicated_and_miscounted_lines(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.drop_lines, sb.batches.faults.duplicate_lines, sb.batches.faults.counts_wrong = 2, 1, True
    sb.batches.faults.line_error_every = 5
    b = run_to_end(sb, client, submit(client, [line(i) for i in range(10)]).id)
    out = [x["custom_id"] for x in read_lines(client, b.output_file_id)]
    err = [x["custom_id"] for x in read_lines(client, b.error_file_id)]
    seen = set(out) | set(err)
    assert {"c0", "c1"} == {f"c{i}" for i in range(10)} - seen  # executed, then in neither file
    assert len(out) == len(set(out)) + 1  # one custom_id twice
    assert b.request_counts is not None and (b.request_counts.completed, b.request_counts.failed) == (10, 0)
    assert sb.batches.stats.lines_executed["c0"] == 1


def test_list_is_newest_first_with_a_cursor(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    ids = []
    for i in range(5):
        ids.append(submit(client, [line(i)], metadata={"n": str(i)}).id)
        sb.batches.advance(1)
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == [ids[4], ids[3]] and page.has_more is True
    raw = client.batches.with_raw_response.list(limit=2).http_response.json()
    assert (raw["first_id"], raw["last_id"], raw["object"]) == (ids[4], ids[3], "list")
    nxt = client.batches.list(limit=2, after=ids[3])
    assert [b.id for b in nxt.data] == [ids[2], ids[1]]
    assert [b.id for b in client.batches.list(limit=2)] == ids[::-1]  # the SDK follows the cursor
    assert [b.metadata for b in client.batches.list(limit=100)] == [{"n": str(i)} for i in range(4, -1, -1)]
    with pytest.raises(openai.BadRequestError):
        client.batches.list(limit=101)


# --- request traps ------------------------------------------------------------------------


def test_retrieve_answers_500_several_times_then_recovers(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    batch = submit(client, [line(0)])
    sb.batches.faults.retrieve_error_next = 3
    for _ in range(3):
        with pytest.raises(openai.InternalServerError):
            client.batches.retrieve(batch.id)
    assert client.batches.retrieve(batch.id).id == batch.id
    assert sb.batches.stats.retrieves == 4


def test_retrieve_gone_and_unknown_batch_are_404(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    batch = submit(client, [line(0)])
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")
    sb.batches.faults.retrieve_gone = True
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve(batch.id)


def test_content_errors_then_404_after_the_output_expires(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    batch = submit(client, [line(0)], output_expires_after={"anchor": "created_at", "seconds": 3600})
    b = run_to_end(sb, client, batch.id)
    assert b.output_file_id is not None
    sb.batches.faults.content_error_next = 2
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.files.content(b.output_file_id)
    assert len(read_lines(client, b.output_file_id)) == 1
    sb.batches.advance(3600)
    with pytest.raises(openai.NotFoundError):
        client.files.content(b.output_file_id)
    assert sb.batches.stats.content_downloads == 4


def test_a_stuck_batch_never_ends(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.stuck = True
    batch = submit(client, [line(0), line(1)])
    sb.batches.advance(3 * 86_400)
    b = client.batches.retrieve(batch.id)
    assert b.status == "in_progress" and b.expires_at is not None and b.expires_at < batch.created_at + 3 * 86_400


def test_a_failed_create_creates_nothing(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.create_error_next = 1
    fid = upload(client, jsonl([line(0)]))
    with pytest.raises(openai.InternalServerError):
        client.batches.create(input_file_id=fid, endpoint="/v1/responses", completion_window="24h")
    assert (sb.batches.stats.create_calls, sb.batches.stats.batches_created) == (1, 0)
    assert list(client.batches.list()) == []


def test_a_create_whose_response_is_lost_still_created_the_batch(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    sb.batches.faults.create_lost_response_next = 1
    fid = upload(client, jsonl([line(0)]))
    with pytest.raises(openai.InternalServerError):
        client.batches.create(
            input_file_id=fid, endpoint="/v1/responses", completion_window="24h", metadata={"lse_key": "k-1"}
        )
    assert sb.batches.stats.batches_created == 1
    (found,) = [b for b in client.batches.list() if (b.metadata or {}).get("lse_key") == "k-1"]
    assert found.input_file_id == fid


def test_embeddings_batches_run_the_embeddings_endpoint(sb: OpenAISandbox, client: openai.OpenAI) -> None:
    texts = ["the cat sat", "on the mat"]
    body = {"model": "text-embedding-3-small", "input": texts, "encoding_format": "float"}
    bad = {"model": "text-embedding-3-small", "input": ["ok", ""]}
    batch = submit(
        client,
        [line(0, body=body, url="/v1/embeddings"), line(1, body=bad, url="/v1/embeddings")],
        endpoint="/v1/embeddings",
    )
    b = run_to_end(sb, client, batch.id)
    (out,) = read_lines(client, b.output_file_id)
    vectors = [d["embedding"] for d in out["response"]["body"]["data"]]
    assert vectors == [pytest.approx(sandbox_embedding(t)) for t in texts]
    (err,) = read_lines(client, b.error_file_id)
    assert err["custom_id"] == "c1" and err["response"]["status_code"] == 400
    sb.batches.faults.max_embedding_inputs = 3
    over = run_to_end(
        sb,
        client,
        submit(
            client,
            [line(0, body=body, url="/v1/embeddings"), line(1, body=body, url="/v1/embeddings")],
            endpoint="/v1/embeddings",
        ).id,
    )
    assert over.status == "failed" and over.errors is not None and over.errors.data is not None
    assert over.errors.data[0].code == "too_many_embedding_inputs"


def test_real_time_mode_finishes_on_its_own() -> None:
    with OpenAISandbox() as sandbox:
        sandbox.batches.faults.validate_s = sandbox.batches.faults.process_s = sandbox.batches.faults.finalize_s = 0.05
        c = openai.OpenAI(base_url=sandbox.base_url, api_key=sandbox.api_key, max_retries=0)
        batch = submit(c, [line(0)])
        deadline = time.monotonic() + 5
        while c.batches.retrieve(batch.id).status != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
