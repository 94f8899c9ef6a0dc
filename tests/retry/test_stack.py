"""The one retry stack with a second service's rules as data: real `requests` exceptions and
responses (a LangSmith-like HTTP client), judged by the same classifier as OpenAI's SDK errors."""

from __future__ import annotations

import email.utils

import pytest
import requests

from lse.retry import RetryKind, ServiceRules, classify_error, classify_status, requested_wait_s, retrying
from lse.retry.waits import bucket_report

HTTP_RULES = ServiceRules(
    name="an HTTP API behind requests",
    statuses={429: RetryKind.RATE_LIMITED, 408: RetryKind.TRANSIENT, 425: RetryKind.TRANSIENT},
    timeouts=(requests.exceptions.Timeout,),
    disconnects=(requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError),
    transient_when=lambda exc: "Failed to" in str(exc),
)


def _http_error(status: int, headers: dict[str, str] | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = b"<html>busy</html>"
    return requests.HTTPError(f"{status} error", response=response)


CASES = [
    (_http_error(429, {"Retry-After": "3"}), RetryKind.RATE_LIMITED, 3.0),
    (_http_error(429), RetryKind.RATE_LIMITED, None),  # an HTML 429 with no header: backoff
    (_http_error(503, {"retry-after": "1"}), RetryKind.TRANSIENT, 1.0),
    (_http_error(425), RetryKind.TRANSIENT, None),
    (_http_error(404), RetryKind.PERMANENT, None),
    (requests.exceptions.ReadTimeout("read timed out"), RetryKind.TRANSIENT, None),
    (requests.exceptions.ConnectionError("refused"), RetryKind.TRANSIENT, None),
    (RuntimeError("Failed to connect to the server"), RetryKind.TRANSIENT, None),
    (ValueError("a bug"), RetryKind.PERMANENT, None),
]


@pytest.mark.parametrize(
    ("exc", "kind", "wait"), CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)]
)
def test_a_second_service_plugs_in_as_a_table(exc: BaseException, kind: RetryKind, wait: float | None) -> None:
    decision = classify_error(HTTP_RULES, exc)
    assert (decision.kind, decision.wait_s) == (kind, wait)


def test_statuses_seen_by_a_transport_are_judged_by_the_same_table() -> None:
    assert classify_status(HTTP_RULES, 200).kind is RetryKind.OK
    date = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert requested_wait_s({"Retry-After": date}, now=1_000_000.0) == 30.0
    d = classify_status(HTTP_RULES, 429, {"retry-after-ms": "250", "retry-after": "9"})
    assert (d.kind, d.wait_s, d.retryable) == (RetryKind.RATE_LIMITED, 0.25, True)
    assert classify_status(HTTP_RULES, 401).kind is RetryKind.PERMANENT  # this service has no stop rule


def test_the_bucket_report_is_read_as_time_to_full() -> None:
    report = bucket_report(
        {
            "x-ratelimit-limit-requests": "5000",
            "x-ratelimit-remaining-requests": "4999",
            "x-ratelimit-reset-requests": "12ms",
        },
        "requests",
    )
    assert report is not None and report.refill_per_s == pytest.approx(5000 / 60, rel=0.01)
    assert bucket_report({"x-ratelimit-remaining-requests": "0"}, "requests").refill_per_s is None
    assert bucket_report({}, "tokens") is None


def test_refusals_and_failures_are_bounded_apart() -> None:
    seq = [_http_error(429, {"retry-after": "0"})] * 7 + [_http_error(503)] * 2 + ["ok"]
    waits: list[float] = []

    def call() -> str:
        item = seq.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    policy = retrying(
        lambda e: classify_error(HTTP_RULES, e), max_attempts=3, max_rate_limited=8, max_wait_s=0.01, sleep=waits.append
    )
    assert policy(call) == "ok" and len(waits) == 9  # 7 refusals + 2 failures, each under its own bound

    seq[:] = [_http_error(503)] * 3 + ["never reached"]
    with pytest.raises(requests.HTTPError):
        retrying(lambda e: classify_error(HTTP_RULES, e), max_attempts=3, max_wait_s=0.01, sleep=waits.append)(call)
    assert seq == ["never reached"]
