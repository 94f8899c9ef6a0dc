"""The OpenAI sandbox, exercised through the real `openai` SDK (retries off) over loopback.

Assertions are on what the SDK parsed and on what the server saw (`sandbox.stats`), so the
sandbox is proven to speak the protocol the product will meet in production.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import openai
import pydantic
import pytest

from lse.retry import duration_s
from lse.sandbox.openai import (
    FIXED_PHRASE,
    OpenAIFaults,
    OpenAISandbox,
    compute_usage,
    estimate_tokens,
    sandbox_answer,
    sandbox_embedding,
)
from lse.sandbox.openai.limiter import TokenBucket, format_reset


def _client(sandbox: OpenAISandbox, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=sandbox.base_url, api_key=sandbox.api_key, max_retries=0, **kwargs)


def _async_client(sandbox: OpenAISandbox) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sandbox.base_url, api_key=sandbox.api_key, max_retries=0)


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- pure helpers -----------------------------------------------------------------------


def test_answer_is_deterministic_reuses_question_words_and_depends_on_model() -> None:
    question = "Which river flows through the city of Vienna and into the Black Sea eventually"
    a = sandbox_answer("gpt-4o-mini", "Be brief.", question)
    assert a == sandbox_answer("gpt-4o-mini", "Be brief.", question)
    assert a.endswith(FIXED_PHRASE)
    assert a != sandbox_answer("gpt-4.1", "Be brief.", question)
    kept = a.removesuffix(FIXED_PHRASE).rstrip(". ").split()
    assert 0.5 * len(question.split()) <= len(kept) < len(question.split())


def test_embedding_is_unit_length_and_tracks_word_overlap() -> None:
    base = sandbox_embedding("the cat sat on the mat", 256)
    assert len(base) == 256 and math.isclose(sum(v * v for v in base), 1.0)
    assert _cos(base, sandbox_embedding("The cat sat on a mat!", 256)) > 0.7
    assert abs(_cos(base, sandbox_embedding("quantum chromodynamics lattice gauge", 256))) < 0.5
    assert len(sandbox_embedding("x", 64)) == 64


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, capacity=2, clock=lambda: now[0])
    assert bucket.try_acquire().granted and bucket.try_acquire().granted
    refused = bucket.try_acquire()
    assert not refused.granted and math.isclose(refused.wait_s, 0.1)
    now[0] = 0.1
    assert bucket.try_acquire().granted
    assert math.isclose(bucket.reset_after_s(), 0.2)
    assert [format_reset(s) for s in (0, 0.12, 1, 1.5, 360)] == ["0s", "120ms", "1s", "1.5s", "6m0s"]


# --- responses --------------------------------------------------------------------------


def test_response_parses_with_usage_and_records_input(openai_sandbox, openai_client) -> None:
    question = "What is the boiling point of water at sea level in Celsius?"
    resp = openai_client.responses.create(
        model="gpt-4o-mini", input=question, instructions="Answer briefly.", temperature=0, metadata={"k": "v"}
    )
    assert resp.id.startswith("resp_") and resp.status == "completed" and resp.object == "response"
    assert resp.output_text == sandbox_answer("gpt-4o-mini", "Answer briefly.", question)
    expected = compute_usage("gpt-4o-mini", "Answer briefly.", question, resp.output_text)
    assert resp.usage.input_tokens == expected.input_tokens
    assert expected.input_tokens == estimate_tokens("Answer briefly.") + estimate_tokens(question)
    assert resp.usage.output_tokens == estimate_tokens(resp.output_text)
    assert resp.usage.total_tokens == resp.usage.input_tokens + resp.usage.output_tokens
    assert resp.usage.input_tokens_details.cached_tokens == 0
    assert resp.usage.output_tokens_details.reasoning_tokens == 0
    assert openai_sandbox.stats.responses_inputs == [question]
    assert openai_sandbox.stats.requests_by_endpoint == {"responses": 1}
    assert openai_sandbox.stats.status_counts == {200: 1}


def test_message_list_input_is_flattened(openai_sandbox, openai_client) -> None:
    items = [
        {"role": "developer", "content": "You grade answers."},
        {"role": "user", "content": [{"type": "input_text", "text": "Is 2+2 four?"}]},
    ]
    resp = openai_client.responses.create(model="gpt-4o-mini", input=items)
    assert openai_sandbox.stats.responses_inputs == ["You grade answers.\nIs 2+2 four?"]
    assert resp.output_text == sandbox_answer("gpt-4o-mini", None, "You grade answers.\nIs 2+2 four?")


def test_long_instructions_are_half_cached_and_reasoning_models_bill_reasoning(openai_client) -> None:
    instructions = "Follow the rubric carefully. " * 200  # 800 words -> 1040 tokens
    resp = openai_client.responses.create(model="gpt-4o-mini", input="Grade this.", instructions=instructions)
    assert resp.usage.input_tokens_details.cached_tokens == estimate_tokens(instructions) // 2 > 0

    resp = openai_client.responses.create(model="o4-mini", input="Grade this.", reasoning={"effort": "high"})
    details = resp.usage.output_tokens_details
    assert details.reasoning_tokens > 0
    assert resp.usage.output_tokens == details.reasoning_tokens + estimate_tokens(resp.output_text)
    assert resp.output[0].type == "reasoning"


def test_reasoning_model_rejects_temperature_like_the_real_api(openai_client) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="gpt-5-mini", input="hi", temperature=0.2)
    assert caught.value.param == "temperature" and caught.value.code == "unsupported_parameter"


def test_max_output_tokens_truncates_and_marks_incomplete(openai_client) -> None:
    question = " ".join(f"word{i}" for i in range(60))
    resp = openai_client.responses.create(model="gpt-4o-mini", input=question, max_output_tokens=16)
    assert resp.status == "incomplete" and resp.incomplete_details.reason == "max_output_tokens"
    assert 0 < resp.usage.output_tokens <= 16


def test_structured_output_parses_into_the_schema(openai_client) -> None:
    class Grade(pydantic.BaseModel):
        score: int
        reason: str

    parsed = openai_client.responses.parse(model="gpt-4o-mini", input="Grade: Paris is in France", text_format=Grade)
    assert isinstance(parsed.output_parsed, Grade)


# --- embeddings -------------------------------------------------------------------------


def test_embeddings_base64_default_decodes_to_the_sandbox_vectors(openai_sandbox, openai_client) -> None:
    texts = ["the quick brown fox", "a quick brown dog", "tax law of 1998"]
    result = openai_client.embeddings.create(model="text-embedding-3-small", input=texts)
    assert [d.index for d in result.data] == [0, 1, 2]
    for datum, text in zip(result.data, texts, strict=True):
        assert np.allclose(datum.embedding, sandbox_embedding(text, 256), atol=1e-6)
    assert result.usage.prompt_tokens == sum(estimate_tokens(t) for t in texts)
    vectors = [d.embedding for d in result.data]
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])

    floats = openai_client.embeddings.create(model="m", input="hello", dimensions=32, encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(sandbox_embedding("hello", 32))
    assert openai_sandbox.stats.embeddings_batches == [3, 1]


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(["x"] * 2049, id="too-many-inputs"),
        pytest.param(["word " * 150] * 2000, id="too-many-tokens"),
        pytest.param(["ok", ""], id="empty-string"),
        pytest.param([[1, 2, 3]], id="token-array"),
    ],
)
def test_embeddings_limits_are_bad_requests(openai_client, inputs) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.embeddings.create(model="text-embedding-3-small", input=inputs)
    assert caught.value.type == "invalid_request_error" and caught.value.param == "input"


# --- auth, headers, routing -------------------------------------------------------------


def test_wrong_key_is_authentication_error(openai_sandbox) -> None:
    client = openai.OpenAI(base_url=openai_sandbox.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.responses.create(model="gpt-4o-mini", input="hi")
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        client.embeddings.create(model="m", input="hi")
    assert openai_sandbox.stats.status_counts == {401: 2}


def test_every_response_carries_rate_limit_headers_and_request_id(openai_sandbox, openai_client) -> None:
    ok = openai_client.responses.with_raw_response.create(model="gpt-4o-mini", input="hi")
    unknown = httpx.get(openai_sandbox.base_url + "/nope")
    for headers in (ok.headers, unknown.headers):
        assert headers["x-request-id"].startswith("req_")
        for kind in ("requests", "tokens"):
            assert int(headers[f"x-ratelimit-limit-{kind}"]) >= int(headers[f"x-ratelimit-remaining-{kind}"]) >= 0
            assert headers[f"x-ratelimit-reset-{kind}"].endswith("s")
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "Invalid URL (GET /v1/nope)"


# --- faults -----------------------------------------------------------------------------


def test_rate_limit_next_is_429_with_retry_after_headers(openai_sandbox, openai_client) -> None:
    openai_sandbox.faults.rate_limit_next = 2
    openai_sandbox.faults.rate_limit_retry_after_ms = 250
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            openai_client.responses.create(model="gpt-4o-mini", input="hi")
        assert caught.value.code == "rate_limit_exceeded"
        headers = caught.value.response.headers
        assert headers["retry-after-ms"] == "250" and headers["retry-after"] == "1"
        assert headers["x-ratelimit-remaining-requests"] == "0"
    assert openai_client.responses.create(model="gpt-4o-mini", input="hi").status == "completed"
    assert openai_sandbox.faults.rate_limit_next == 0
    assert openai_sandbox.stats.status_counts == {429: 2, 200: 1}


def test_insufficient_quota_refuses_both_endpoints(openai_sandbox, openai_client) -> None:
    openai_sandbox.faults.insufficient_quota = True
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.responses.create(model="gpt-4o-mini", input="hi")
    assert caught.value.code == "insufficient_quota" and caught.value.type == "insufficient_quota"
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.embeddings.create(model="m", input="hi")
    assert caught.value.code == "insufficient_quota"


def test_server_errors_next_every_and_embeddings(openai_sandbox, openai_client) -> None:
    faults = openai_sandbox.faults
    faults.server_error_next = 1
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.responses.create(model="gpt-4o-mini", input="hi")
    assert caught.value.status_code == 500 and caught.value.type == "server_error"

    faults.server_error_status = 503
    faults.server_error_every = 3  # call counting continues: that was call 1
    outcomes = []
    for _ in range(5):
        try:
            openai_client.responses.create(model="gpt-4o-mini", input="hi")
            outcomes.append(200)
        except openai.InternalServerError as exc:
            outcomes.append(exc.status_code)
    assert outcomes == [200, 503, 200, 200, 503]

    faults.embeddings_server_error_next = 1
    with pytest.raises(openai.InternalServerError):
        openai_client.embeddings.create(model="m", input="hi")
    assert openai_client.embeddings.create(model="m", input="hi").data


def test_timeout_next_trips_client_timeout_and_stop_does_not_wait(make_openai_sandbox) -> None:
    sandbox = make_openai_sandbox(faults=OpenAIFaults(timeout_next=1, hang_s=30))
    client = _client(sandbox, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        client.responses.create(model="gpt-4o-mini", input="hi")
    deadline = time.monotonic() + 2
    while sandbox.stats.in_flight and time.monotonic() < deadline:  # the hang ends once the client is gone
        time.sleep(0.02)
    assert sandbox.stats.in_flight == 0
    sandbox.faults.timeout_next = 1
    with pytest.raises(openai.APITimeoutError):
        client.responses.create(model="gpt-4o-mini", input="hi")
    assert client.responses.create(model="gpt-4o-mini", input="hi").status == "completed"
    started = time.monotonic()
    sandbox.stop()  # wakes the second hang rather than waiting for it
    assert time.monotonic() - started < 3


def test_bad_request_marker(openai_client) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.responses.create(model="gpt-4o-mini", input="please [[bad-request]] fail")
    assert caught.value.param == "input" and "[[bad-request]]" in caught.value.message
    with pytest.raises(openai.BadRequestError):
        openai_client.embeddings.create(model="m", input=["fine", "x [[bad-request]]"])


def test_fifty_concurrent_calls_overlap_and_peak_is_exact(openai_sandbox) -> None:
    openai_sandbox.faults.responses_latency_ms = 1000

    async def burst() -> list:
        client = _async_client(openai_sandbox)
        async with client:
            return await asyncio.gather(
                *(client.responses.create(model="gpt-4o-mini", input=f"question {i}") for i in range(50))
            )

    started = time.monotonic()
    results = asyncio.run(burst())
    elapsed = time.monotonic() - started
    assert len(results) == 50 and elapsed < 3.0
    assert openai_sandbox.stats.peak_in_flight == 50
    assert sorted(openai_sandbox.stats.responses_inputs) == sorted(f"question {i}" for i in range(50))


def test_max_concurrency_refuses_the_excess_with_429(openai_sandbox) -> None:
    openai_sandbox.faults.responses_latency_ms = 500
    openai_sandbox.faults.max_concurrency = 4

    async def burst() -> list:
        client = _async_client(openai_sandbox)
        async with client:
            calls = (client.responses.create(model="gpt-4o-mini", input=f"q{i}") for i in range(10))
            return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(burst())
    refused = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(refused) == 6 and all(r.code == "rate_limit_exceeded" and "concurrent" in r.message for r in refused)
    assert openai_sandbox.stats.peak_in_flight == 4


def test_token_bucket_holds_the_rate_under_hammering(openai_sandbox) -> None:
    openai_sandbox.faults.rate_limit_rpm = 1200  # 20/s, enforced per second too: a burst of 20
    client = _client(openai_sandbox)
    ok, limited, waits = 0, 0, []
    lock = threading.Lock()
    deadline = time.monotonic() + 2.0

    def hammer() -> None:
        nonlocal ok, limited
        while time.monotonic() < deadline:
            try:
                client.responses.create(model="gpt-4o-mini", input="hi")
                with lock:
                    ok += 1
            except openai.RateLimitError as exc:
                with lock:
                    limited += 1
                    waits.append(int(exc.response.headers["retry-after-ms"]))
                    assert int(exc.response.headers["x-ratelimit-remaining-requests"]) > 0  # the minute has room

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 50 <= ok <= 62  # 20/s for 2 s plus one second's burst of 20
    assert limited > 0 and max(waits) <= 50
    assert openai_sandbox.stats.status_counts[200] == ok


def test_the_request_bucket_reports_like_openai(openai_sandbox, openai_client) -> None:
    """limit = per-minute limit, remaining = tokens left, reset = time until FULL; a 429's
    retry-after-ms is the time until the next request is allowed, retry-after whole seconds."""
    openai_sandbox.faults.rate_limit_rpm = 6  # one request every 10 s
    openai_sandbox.faults.rate_limit_quantum_s = None  # the minute only: a burst of 6
    for left in range(5, -1, -1):
        raw = openai_client.responses.with_raw_response.create(model="gpt-4o-mini", input="hi")
        assert raw.headers["x-ratelimit-limit-requests"] == "6"
        assert raw.headers["x-ratelimit-remaining-requests"] == str(left)
    assert 59.0 <= duration_s(raw.headers["x-ratelimit-reset-requests"]) <= 60.0  # empty: a minute to full
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.responses.create(model="gpt-4o-mini", input="hi")
    h = caught.value.response.headers
    assert caught.value.code == "rate_limit_exceeded" and caught.value.type == "requests"
    assert 9_000 <= int(h["retry-after-ms"]) <= 10_000 and h["retry-after"] == "10"  # the next token, not the reset
    assert h["x-ratelimit-remaining-requests"] == "0" and duration_s(h["x-ratelimit-reset-requests"]) >= 59.0


def test_a_quantized_limit_refuses_a_burst_while_the_minute_has_room(openai_sandbox) -> None:
    openai_sandbox.faults.rate_limit_rpm = 600  # 10/s: at most 10 in one second
    client = _client(openai_sandbox)
    barrier = threading.Barrier(20)

    def call() -> openai.RateLimitError | None:
        barrier.wait()
        try:
            client.responses.create(model="gpt-4o-mini", input="hi")
        except openai.RateLimitError as exc:
            return exc
        return None

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: call(), range(20)))
    refused = [r for r in results if r is not None]
    assert 8 <= len(refused) <= 10  # 10 in the quantum, plus what refilled while they arrived
    h = refused[0].response.headers
    assert int(h["x-ratelimit-remaining-requests"]) >= 580 and int(h["retry-after-ms"]) <= 100


def test_tokens_per_minute_are_charged_by_estimate_and_settled_to_usage(openai_sandbox, openai_client) -> None:
    openai_sandbox.faults.rate_limit_tpm = 1000
    openai_sandbox.faults.rate_limit_quantum_s = None
    first = openai_client.responses.with_raw_response.create(model="gpt-4o-mini", input="hi", max_output_tokens=400)
    used = first.parse().usage.total_tokens
    assert 1000 - used - 2 <= int(first.headers["x-ratelimit-remaining-tokens"]) <= 1000 - used  # refunded to usage
    openai_client.responses.create(model="gpt-4o-mini", input="hi", max_output_tokens=400)
    with pytest.raises(openai.RateLimitError) as caught:  # 400 + input no longer fits
        openai_client.responses.create(model="gpt-4o-mini", input="hi", max_output_tokens=990)
    assert caught.value.type == "tokens" and "tokens per min (TPM)" in caught.value.message
    assert 100 <= int(caught.value.response.headers["retry-after-ms"]) <= 2000  # until ~991 tokens are back


def test_random_429s_and_503s_carry_the_storm_headers(openai_sandbox) -> None:
    f = openai_sandbox.faults
    f.rate_limit_share, f.rate_limit_retry_after_ms, f.rate_limit_reset_s = 0.3, 200, 59.7
    f.server_error_share, f.server_error_status, f.fault_seed = 0.1, 503, 7
    client = _client(openai_sandbox)
    statuses = []
    for _ in range(200):
        try:
            client.responses.create(model="gpt-4o-mini", input="hi")
            statuses.append(200)
        except openai.RateLimitError as exc:
            statuses.append(429)
            h = exc.response.headers
            assert (h["retry-after-ms"], h["retry-after"]) == ("200", "1")
            assert (h["x-ratelimit-remaining-requests"], h["x-ratelimit-reset-requests"]) == ("0", "59.7s")
        except openai.InternalServerError as exc:
            statuses.append(exc.status_code)
    assert 40 <= statuses.count(429) <= 80 and 5 <= statuses.count(503) <= 25
    assert statuses.count(200) + statuses.count(429) + statuses.count(503) == 200


def test_stats_reset(openai_sandbox, openai_client) -> None:
    openai_client.responses.create(model="gpt-4o-mini", input="hi")
    openai_client.embeddings.create(model="m", input=["a", "b"])
    openai_sandbox.stats.reset()
    stats = openai_sandbox.stats
    assert stats.requests_by_endpoint == {} and stats.status_counts == {}
    assert stats.responses_inputs == [] and stats.embeddings_batches == []
    assert stats.peak_in_flight == 0
