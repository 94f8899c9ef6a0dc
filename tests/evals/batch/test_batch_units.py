"""The pure parts of batch mode: request files, line verdicts, reconciliation, decisions, prices."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lse.evals.batch.bodies import custom_id, parse_custom_id, request_line, responses_body
from lse.evals.batch.config import BatchLimits
from lse.evals.batch.lines import BadLine, LineVerdict, iter_result_lines, judge_line
from lse.evals.batch.outcomes import decide_lines, decide_rejected
from lse.evals.batch.poll import poll_interval
from lse.evals.batch.reconcile import reconcile
from lse.evals.batch.request_file import Oversized, RequestFile, RequestRef, write_request_files
from lse.providers import batch_prices, prices
from lse.providers.usage import Usage

ENDPOINT = "/v1/responses"


def write(items, tmp_path: Path, **limits) -> list[RequestFile | Oversized]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return list(
        write_request_files(
            items,
            run_id=7,
            attempt=1,
            endpoint=ENDPOINT,
            params={"model": "m", "temperature": 0.1, "max_output_tokens": None, "knowledge_base_ids": ["vs_1"]},
            body_for=responses_body,
            limits=BatchLimits(**limits),
            directory=tmp_path,
        )
    )


# --- request files ----------------------------------------------------------------------


def test_request_lines_carry_fast_modes_params_and_a_parseable_custom_id(tmp_path: Path) -> None:
    (part,) = write([(11, "q one"), (12, "q two")], tmp_path)
    assert isinstance(part, RequestFile)
    data = part.path.read_bytes()
    lines = [json.loads(x) for x in data.splitlines()]
    assert lines[0] == {
        "custom_id": "lse-r7-i11-a1",
        "method": "POST",
        "url": ENDPOINT,
        "body": {  # fast mode's mapping: None dropped, Kaapi's knowledge_base_ids as a file_search tool
            "model": "m",
            "temperature": 0.1,
            "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 20}],
            "input": "q one",
        },
    }
    assert part.refs == [RequestRef(1, "lse-r7-i11-a1", 11), RequestRef(2, "lse-r7-i12-a1", 12)]
    assert part.sha256 == hashlib.sha256(data).hexdigest() and part.n_bytes == len(data)
    assert parse_custom_id("lse-r7-i11-a1") == (7, 11, 1) and parse_custom_id("other") is None
    assert custom_id(1, 2, 3) == "lse-r1-i2-a3"


def test_files_split_at_each_limit_and_oversized_items_are_reported(tmp_path: Path) -> None:
    items = [(i, f"question {i}") for i in range(10)]
    assert [p.n_requests for p in write(items, tmp_path / "a", max_requests=4)] == [4, 4, 2]
    size = len(request_line("lse-r7-i0-a1", ENDPOINT, {"model": "m"}))
    parts = write(items, tmp_path / "b", max_bytes=3 * (size + 60))
    assert all(isinstance(p, RequestFile) and p.n_bytes <= 3 * (size + 60) for p in parts)
    assert sum(p.n_requests for p in parts if isinstance(p, RequestFile)) == 10
    one = write(items[:1], tmp_path / "c")[0]
    assert isinstance(one, RequestFile)
    parts = write(items, tmp_path / "d", max_tokens=2 * one.est_tokens + 1)
    assert [p.n_requests for p in parts if isinstance(p, RequestFile)] == [2] * 5
    mixed = write([(1, "short"), (2, "long " * 300), (3, "short too")], tmp_path / "e", max_bytes=500)
    assert [type(p).__name__ for p in mixed] == ["Oversized", "RequestFile"]
    assert isinstance(mixed[0], Oversized) and mixed[0].item_id == 2 and "500-byte" in mixed[0].reason
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes().count(b"\n") <= 4


def test_writing_streams_one_file_at_a_time(tmp_path: Path) -> None:
    gen = write_request_files(
        ((i, f"q{i}") for i in range(7)),
        run_id=1,
        attempt=1,
        endpoint=ENDPOINT,
        params={"model": "m"},
        body_for=responses_body,
        limits=BatchLimits(max_requests=3),
        directory=tmp_path,
    )
    first = next(gen)
    assert isinstance(first, RequestFile) and first.n_requests == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests-1.jsonl"]  # the next not yet begun
    rest = list(gen)
    assert [p.n_requests for p in rest if isinstance(p, RequestFile)] == [3, 1]


# --- judging lines -----------------------------------------------------------------------


def ok_line(cid: str, status: str = "completed", text: str = "hi") -> dict:
    body = {
        "id": "resp_1",
        "status": status,
        "output": [{"type": "message", "content": [{"type": "output_text", "text": text}]}],
        "usage": {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 1},
            "output_tokens": 3,
            "output_tokens_details": {"reasoning_tokens": 0},
        },
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
    }
    return {"custom_id": cid, "response": {"status_code": 200, "body": body}, "error": None}


def err_line(cid: str, status: int, code: str | None = "bad", message: str = "nope") -> dict:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": "input", "code": code}}
    return {"custom_id": cid, "response": {"status_code": status, "body": body}, "error": None}


def not_run(cid: str, code: str) -> dict:
    return {"custom_id": cid, "response": None, "error": {"code": code, "message": "did not run"}}


def test_a_line_is_judged_by_its_content() -> None:
    v = judge_line(ok_line("a"))
    assert (v.kind, v.output, v.response_id, v.usage) == ("succeeded", "hi", "resp_1", Usage(5, 1, 3, 0, 1))
    v = judge_line(ok_line("a", status="incomplete", text="partial"))
    assert (v.kind, v.output, v.error_code) == ("failed", "partial", "response_incomplete")
    assert "max_output_tokens" in (v.error or "") and v.usage is not None
    v = judge_line(err_line("a", 400, code="context_length_exceeded", message="too long"))
    assert (v.kind, v.status_code, v.error_code) == ("failed", 400, "context_length_exceeded")
    assert v.error == "HTTP 400: too long"
    assert judge_line(err_line("a", 500, code=None)).kind == "retry"
    assert judge_line(err_line("a", 500, code=None)).error_code == "invalid_request_error"
    assert judge_line(err_line("a", 429)).kind == "retry"
    assert judge_line(not_run("a", "batch_expired")).kind == "not_executed"
    assert judge_line(not_run("a", "batch_cancelled")).kind == "not_executed"
    assert judge_line(not_run("a", "request_timeout")).kind == "retry"
    assert judge_line({"custom_id": "a", "response": None, "error": None}).error_code == "malformed_line"
    broken = ok_line("a")
    broken["response"]["body"]["output"] = [{"type": "message", "content": "not a list"}]
    assert judge_line(broken).error_code == "malformed_output"
    no_status = ok_line("a")
    del no_status["response"]["body"]["status"]
    assert judge_line(no_status).kind == "failed"  # only "completed" is a whole answer


def test_result_files_are_read_line_by_line_with_bad_lines_kept() -> None:
    import io

    raw = io.BytesIO(b'{"custom_id":"a","response":null,"error":null}\n\nnot json\n[1]\n')
    got = list(iter_result_lines(raw))
    assert [n for n, _ in got] == [1, 3, 4]
    assert isinstance(got[0][1], dict) and isinstance(got[1][1], BadLine) and isinstance(got[2][1], BadLine)


# --- reconciling ---------------------------------------------------------------------------


REFS = [RequestRef(1, "a", 10), RequestRef(2, "b", 20), RequestRef(3, "c", 30)]


def test_reconcile_gives_every_custom_id_one_verdict_and_notes_the_rest() -> None:
    lines = [
        judge_line(err_line("a", 500)),
        judge_line(ok_line("a")),  # a success wins over the earlier failure
        judge_line(ok_line("b")),
        judge_line(ok_line("zz")),  # never sent
        BadLine(9, "not JSON"),
    ]
    rec = reconcile(REFS, lines, request_counts={"total": 3, "completed": 2, "failed": 0}, provider_usage=None)
    assert {k: v.kind for k, v in rec.verdicts.items()} == {"a": "succeeded", "b": "succeeded", "c": "missing"}
    kinds = [a["kind"] for a in rec.anomalies]
    assert kinds == ["missing_results", "duplicate_results", "unknown_custom_ids", "unreadable_line"]
    clean = reconcile(
        REFS,
        [judge_line(ok_line(c)) for c in "abc"],
        request_counts={"total": 3, "completed": 3, "failed": 0},
        provider_usage={"input_tokens": 15, "output_tokens": 9},
    )
    assert clean.anomalies == [] and clean.usage.input_tokens == 15
    wrong = reconcile(
        REFS,
        [judge_line(ok_line(c)) for c in "abc"],
        request_counts={"total": 3, "completed": 2, "failed": 1},
        provider_usage={"input_tokens": 99, "output_tokens": 9},
    )
    assert [a["kind"] for a in wrong.anomalies] == ["request_counts_mismatch", "usage_mismatch"]


def test_decisions_keep_successes_retry_what_may_succeed_and_fail_the_rest() -> None:
    lines = [judge_line(ok_line("a")), judge_line(err_line("b", 400)), judge_line(not_run("c", "batch_expired"))]
    rec = reconcile(REFS, lines, request_counts=None, provider_usage=None)
    d = decide_lines(
        REFS, rec, provider_status="expired", provider_batch_id="batch_x", round_=1, max_rounds=2, user_cancelled=False
    )
    assert [(i.item_id, i.status) for i in d.items] == [(10, "succeeded"), (20, "failed")]
    assert [(r.item_id, r.code) for r in d.retry] == [(30, "batch_expired")] and d.fatal is None
    assert [o.outcome for o in d.outcomes] == ["succeeded", "failed", "not_executed"]
    last = decide_lines(
        REFS, rec, provider_status="expired", provider_batch_id="batch_x", round_=2, max_rounds=2, user_cancelled=False
    )
    assert last.retry == [] and "gave up after 2 rounds" in (last.items[-1].error or "")
    none_ok = reconcile(
        REFS,
        [judge_line(err_line(c, 400, message="bad input")) for c in "abc"],
        request_counts=None,
        provider_usage=None,
    )
    fatal = decide_lines(
        REFS,
        none_ok,
        provider_status="completed",
        provider_batch_id="batch_x",
        round_=1,
        max_rounds=2,
        user_cancelled=False,
    )
    assert fatal.fatal == (
        "provider batch batch_x completed with 0 of 3 requests succeeded; most common error: HTTP 400: bad input (3/3)"
    )
    leftovers = decide_lines(
        REFS,
        none_ok,
        provider_status="completed",
        provider_batch_id="batch_x",
        round_=2,
        max_rounds=3,
        user_cancelled=False,
    )
    assert leftovers.fatal is None and len(leftovers.items) == 3  # a later round's leftovers: judged item by item


def test_a_rejected_file_is_mapped_line_by_line() -> None:
    errors = [{"code": "invalid_json_line", "line": 2, "message": "bad JSON", "param": None}]
    d = decide_rejected(REFS, errors, provider_batch_id="batch_x", round_=1, max_rounds=3)
    assert [(i.item_id, i.error_code) for i in d.items] == [(20, "invalid_json_line")]
    assert [r.item_id for r in d.retry] == [10, 30] and d.fatal is None and not d.defer
    token = [{"code": "token_limit_exceeded", "line": None, "message": "Enqueued token limit reached", "param": None}]
    d = decide_rejected(REFS, token, provider_batch_id="batch_x", round_=1, max_rounds=3)
    assert d.defer and len(d.retry) == 3 and d.items == []
    general = [{"code": "empty_file", "line": None, "message": "empty", "param": None}]
    d = decide_rejected(REFS, general, provider_batch_id="batch_x", round_=1, max_rounds=3)
    assert d.fatal == "the provider rejected batch batch_x: empty_file: empty" and len(d.items) == 3
    d = decide_rejected(
        REFS, [{"code": "x", "line": 99, "message": "?"}], provider_batch_id="b", round_=1, max_rounds=3
    )
    assert d.anomalies[0]["kind"] == "error_line_out_of_range" and d.fatal is not None
    assert decide_rejected(REFS, None, provider_batch_id="b", round_=1, max_rounds=3).fatal is not None


def test_config_comes_from_settings(settings) -> None:
    from lse.evals.batch.config import BatchConfig

    s = settings.model_copy(
        update={
            "eval_batch_poll_s": 5.0,
            "eval_batch_max_rounds": 2,
            "eval_batch_max_requests": 10,
            "eval_batch_max_enqueued_tokens": 99,
        }
    )
    c = BatchConfig.from_settings(s)
    assert (c.poll_s, c.max_rounds, c.limits.max_requests, c.limits.max_tokens) == (5.0, 2, 10, 99)
    assert c.limits.max_bytes == 190_000_000 and c.deadline_grace_s == 21_600


def test_poll_cadence_slows_for_old_batches() -> None:
    assert poll_interval(60, 60) == 60
    assert poll_interval(2 * 3600, 60) == 180
    assert poll_interval(10 * 3600, 60) == 600
    assert poll_interval(10 * 3600, 600) == 1800  # capped
    assert poll_interval(10 * 3600, 60, "finalizing") == 60


# --- prices -----------------------------------------------------------------------------


def test_batch_rates_are_half_the_standard_rates_and_unpriced_is_none() -> None:
    # every batch-priced model has a standard price; a model the Batch tier does not list stays unpriced
    assert set(batch_prices.BATCH_RATES) <= set(prices.RATES)
    assert batch_prices.batch_rate_for("gpt-5-chat-latest") is None
    for model, rate in batch_prices.BATCH_RATES.items():
        standard = prices.RATES[model]
        assert rate.input == pytest.approx(standard.input / 2), model
        assert rate.output == pytest.approx(standard.output / 2), model
        if rate.cached_input is not None:
            assert standard.cached_input is not None and rate.cached_input == pytest.approx(standard.cached_input / 2)
    usage = Usage(input_tokens=1_000_000, cached_tokens=200_000, output_tokens=500_000)
    assert batch_prices.batch_cost_usd("gpt-5-mini-2025-08-07", usage) == pytest.approx(
        0.8 * 0.125 + 0.2 * 0.0125 + 0.5
    )
    assert batch_prices.batch_cost_usd("gpt-4o-mini", usage) == pytest.approx(
        1.0 * 0.075 + 0.5 * 0.30
    )  # no cached tier
    assert batch_prices.batch_cost_usd("my-own-model", usage) is None
    assert batch_prices.batch_cost_usd(None, usage) is None


def test_a_verdict_without_usage_bills_nothing() -> None:
    v = LineVerdict("a", "retry")
    rec = reconcile([RequestRef(1, "a", 1)], [v], request_counts=None, provider_usage=None)
    assert rec.usage == Usage()
