"""LangSmith's rules table, judged by the one classifier: statuses, headers and real
exception objects (SDK, `requests`, ours) in, shared `RetryDecision`s out."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests

from langsmith import utils as ls_utils
from lse.errors import UpstreamError
from lse.langsmith.retry_rules import LANGSMITH_RULES, NOT_JSON, classify
from lse.retry import RetryKind, classify_status, retry_after_s, retrying


@pytest.mark.parametrize(
    ("status", "headers", "kind", "wait"),
    [
        (200, {}, RetryKind.OK, None),
        (429, {"Retry-After": "7"}, RetryKind.RATE_LIMITED, 7.0),
        (429, {"retry-after": "0.5"}, RetryKind.RATE_LIMITED, 0.5),
        (429, {}, RetryKind.RATE_LIMITED, None),  # HTML body, no header
        (429, {"Retry-After": "soon"}, RetryKind.RATE_LIMITED, None),
        (500, {}, RetryKind.TRANSIENT, None),
        (502, {}, RetryKind.TRANSIENT, None),
        (503, {"Retry-After": "3"}, RetryKind.TRANSIENT, 3.0),
        (504, {}, RetryKind.TRANSIENT, None),
        (408, {}, RetryKind.TRANSIENT, None),
        (425, {}, RetryKind.TRANSIENT, None),
        (400, {}, RetryKind.PERMANENT, None),
        (401, {}, RetryKind.STOP_RUN, None),
        (403, {}, RetryKind.PERMANENT, None),
        (404, {}, RetryKind.PERMANENT, None),
        (422, {}, RetryKind.PERMANENT, None),
    ],
)
def test_classify_status(status, headers, kind, wait):
    decision = classify_status(LANGSMITH_RULES, status, headers)
    assert decision.kind is kind
    assert decision.wait_s == wait


def test_retry_after_http_date():
    now = time.time()
    when = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= retry_after_s(when, now=now) <= 31


def _http_error(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body
    return requests.HTTPError(f"HTTP {status}", response=response)


def _not_json() -> UpstreamError:
    return UpstreamError("LangSmith answered GET /sessions with a body that is not JSON", code=NOT_JSON)


@pytest.mark.parametrize(
    ("exc", "kind", "wait"),
    [
        (requests.exceptions.ConnectionError("reset by peer"), RetryKind.TRANSIENT, None),
        (requests.exceptions.ReadTimeout("read timed out"), RetryKind.TRANSIENT, None),
        (requests.exceptions.ChunkedEncodingError("broken"), RetryKind.TRANSIENT, None),
        (ConnectionResetError(104, "Connection reset by peer"), RetryKind.TRANSIENT, None),
        (ls_utils.LangSmithConnectionError("Connection error caused failure"), RetryKind.TRANSIENT, None),
        (ls_utils.LangSmithRequestTimeout("took too long"), RetryKind.TRANSIENT, None),
        (ls_utils.LangSmithError("Failed to GET /feedback in LangSmith API."), RetryKind.TRANSIENT, None),
        (_not_json(), RetryKind.TRANSIENT, None),
        (_http_error(429, body=b"<html>Too Many Requests</html>"), RetryKind.RATE_LIMITED, None),
        (_http_error(429, {"Retry-After": "2"}), RetryKind.RATE_LIMITED, 2.0),
        (_http_error(503, {"Retry-After": "1"}), RetryKind.TRANSIENT, 1.0),
        (_http_error(401), RetryKind.STOP_RUN, None),
        (_http_error(404, body=b'{"detail": "not found"}'), RetryKind.PERMANENT, None),
        (UpstreamError("some other failure"), RetryKind.PERMANENT, None),
        (ls_utils.LangSmithError("Unexpected shape"), RetryKind.PERMANENT, None),
        (ValueError("bug"), RetryKind.PERMANENT, None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_classify_exception(exc, kind, wait):
    decision = classify(exc)
    assert (decision.kind, decision.wait_s) == (kind, wait)


def test_backoff_grows_is_bounded_and_the_server_wait_is_capped():
    failures = [_http_error(503)] * 6 + [_http_error(429, {"Retry-After": "30"}), "ok"]
    waits: list[float] = []

    def call() -> str:
        item = failures.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    policy = retrying(classify, max_attempts=8, max_wait_s=2.0, initial_wait_s=0.25, sleep=waits.append)
    assert policy(call) == "ok"
    backoff, asked = waits[:6], waits[6]
    assert backoff[0] < backoff[3] and all(0.25 <= w <= 2.0 for w in backoff)
    assert backoff[-1] == 2.0 and asked == 2.0  # 0.25·2⁵ and Retry-After 30 both capped
