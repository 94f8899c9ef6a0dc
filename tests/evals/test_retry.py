"""The retry classifier, judged on real SDK exception objects (built on real httpx2 responses)."""

from __future__ import annotations

import httpx2
import openai
import pytest

from lse.evals.pipeline.caller import Caller, StopSignal
from lse.evals.rate import RateAdapter
from lse.providers.errors import ProviderAuthError, ProviderRateLimited, ProviderRejected, translate
from lse.providers.retry_rules import classify
from lse.retry import RetryKind, requested_wait_s
from lse.retry import retrying as build_retrying

PERMANENT, RATE_LIMIT, STOP_RUN, TRANSIENT = (
    RetryKind.PERMANENT,
    RetryKind.RATE_LIMITED,
    RetryKind.STOP_RUN,
    RetryKind.TRANSIENT,
)


def retrying(**kwargs):
    """The policy as the fast engine builds it: judged by OpenAI's rules."""
    return build_retrying(classify, **kwargs)


REQ = httpx2.Request("POST", "https://api.openai.com/v1/responses")


def status_error(
    cls: type,
    status: int,
    code: str | None,
    message: str = "boom",
    headers: dict | None = None,
    type_: str | None = None,
):
    body = {"error": {"message": message, "type": type_ or "invalid_request_error", "param": None, "code": code}}
    response = httpx2.Response(status, headers=headers or {}, json=body, request=REQ)
    return cls(f"Error code: {status} - {message}", response=response, body=body["error"])


CASES = [
    # (exception, kind, wait_s)
    (
        status_error(openai.RateLimitError, 429, "rate_limit_exceeded", headers={"retry-after-ms": "250"}),
        RATE_LIMIT,
        0.25,
    ),
    (status_error(openai.RateLimitError, 429, "rate_limit_exceeded", headers={"retry-after": "2"}), RATE_LIMIT, 2.0),
    (status_error(openai.RateLimitError, 429, "rate_limit_exceeded"), RATE_LIMIT, None),
    (
        status_error(
            openai.RateLimitError,
            429,
            "insufficient_quota",
            "You exceeded your current quota",
            type_="insufficient_quota",
        ),
        STOP_RUN,
        None,
    ),
    (status_error(openai.AuthenticationError, 401, "invalid_api_key", "Incorrect API key provided"), STOP_RUN, None),
    (status_error(openai.BadRequestError, 400, "invalid_value", "Invalid input"), PERMANENT, None),
    (status_error(openai.PermissionDeniedError, 403, None, "Project does not have access"), PERMANENT, None),
    (status_error(openai.NotFoundError, 404, "model_not_found", "The model does not exist"), PERMANENT, None),
    (status_error(openai.UnprocessableEntityError, 422, None, "Unprocessable"), PERMANENT, None),
    (status_error(openai.APIStatusError, 408, None, "Request timeout"), TRANSIENT, None),
    (status_error(openai.ConflictError, 409, None, "Conflict"), TRANSIENT, None),
    (status_error(openai.InternalServerError, 500, None, "The server had an error"), TRANSIENT, None),
    (status_error(openai.InternalServerError, 502, None, "Bad gateway"), TRANSIENT, None),
    (status_error(openai.InternalServerError, 503, None, "Overloaded", headers={"retry-after": "1"}), TRANSIENT, 1.0),
    (openai.APITimeoutError(request=REQ), TRANSIENT, None),
    (openai.APIConnectionError(request=REQ), TRANSIENT, None),
    (ConnectionResetError("reset by peer"), TRANSIENT, None),
    (httpx2.ReadTimeout("read timed out", request=REQ), TRANSIENT, None),
    (ValueError("a bug"), PERMANENT, None),
]


@pytest.mark.parametrize(
    ("exc", "kind", "wait"), CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)]
)
def test_classify_table(exc: BaseException, kind: str, wait: float | None) -> None:
    decision = classify(exc)
    assert decision.kind == kind
    assert decision.wait_s == wait
    assert decision.retryable == (kind in (RATE_LIMIT, TRANSIENT))
    assert decision.stops_run == (kind == STOP_RUN)


@pytest.mark.parametrize(("exc", "kind", "wait"), CASES[:14])
def test_translated_errors_classify_the_same(exc: BaseException, kind: str, wait: float | None) -> None:
    """Adapters raise lse errors; the classifier still judges the SDK object behind them."""
    err = translate(exc, what="responses.create")
    assert classify(err).kind == kind
    assert "responses.create" in str(err)


def test_translation_picks_the_lse_class_and_keeps_the_provider_message() -> None:
    rl = translate(CASES[0][0], what="x")
    assert isinstance(rl, ProviderRateLimited) and rl.headers["retry-after-ms"] == "250"
    assert isinstance(translate(CASES[4][0], what="x"), ProviderAuthError)
    bad = translate(CASES[5][0], what="x")
    assert isinstance(bad, ProviderRejected) and "Invalid input" in str(bad) and bad.status == 400


def test_retry_after_parsing() -> None:
    assert requested_wait_s({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert requested_wait_s({"Retry-After": "3"}) == 3.0
    assert requested_wait_s({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412480.0 - 5) == 5.0
    assert requested_wait_s({"retry-after-ms": "later", "retry-after": "2"}) == 2.0
    assert requested_wait_s({"retry-after": "soon"}) is None
    assert requested_wait_s({}) is None


def test_an_unreadable_retry_after_is_a_plain_rate_limit() -> None:
    exc = status_error(openai.RateLimitError, 429, "rate_limit_exceeded", headers={"retry-after": "soon"})
    decision = classify(translate(exc, what="responses.create"))
    assert (decision.kind, decision.wait_s) == (RATE_LIMIT, None)


def test_a_failed_call_always_gives_its_rate_adapter_slot_back() -> None:
    """A 429 whose Retry-After does not parse used to leak the slot: a one-slot run then hung."""
    adapter = RateAdapter(1)
    caller = Caller(adapter, StopSignal(), max_attempts=2, max_wait_s=0.01, initial_wait_s=0.01)
    answers = [
        translate(
            status_error(openai.RateLimitError, 429, "rate_limit_exceeded", headers={"retry-after": "soon"}),
            what="responses.create",
        ),
        "ok",
    ]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    outcome = caller.call(call)
    assert (outcome.value, outcome.error, outcome.attempts) == ("ok", None, 2)
    assert adapter.in_flight == 0 and adapter.rate_limited == 1


def test_policy_retries_transient_then_stops_at_the_bound() -> None:
    waits: list[float] = []
    calls = 0

    def flaky() -> None:
        nonlocal calls
        calls += 1
        raise CASES[11][0]  # 500

    with pytest.raises(openai.InternalServerError):
        retrying(max_attempts=4, max_wait_s=5.0, initial_wait_s=0.1, sleep=waits.append)(flaky)
    assert calls == 4 and len(waits) == 3
    assert all(0 < w <= 5.0 for w in waits)


def test_policy_honours_retry_after_and_never_retries_permanent() -> None:
    waits: list[float] = []
    seq = [CASES[0][0], "ok"]

    def once_limited() -> str:
        item = seq.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    assert retrying(max_attempts=3, max_wait_s=5.0, sleep=waits.append)(once_limited) == "ok"
    assert waits == [0.25]

    calls = 0

    def rejected() -> None:
        nonlocal calls
        calls += 1
        raise CASES[5][0]

    with pytest.raises(openai.BadRequestError):
        retrying(max_attempts=5, max_wait_s=5.0, sleep=waits.append)(rejected)
    assert calls == 1
