"""The retry classifier is pure: a table of statuses, headers and real exception objects."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests

from langsmith import utils as ls_utils
from lse.langsmith.retry_policy import (
    Outcome,
    backoff_s,
    classify_exception,
    classify_status,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "wait"),
    [
        (200, {}, Outcome.OK, None),
        (429, {"Retry-After": "7"}, Outcome.RATE_LIMITED, 7.0),
        (429, {"retry-after": "0.5"}, Outcome.RATE_LIMITED, 0.5),
        (429, {}, Outcome.RATE_LIMITED, None),  # HTML body, no header
        (429, {"Retry-After": "soon"}, Outcome.RATE_LIMITED, None),
        (500, {}, Outcome.TRANSIENT, None),
        (502, {}, Outcome.TRANSIENT, None),
        (503, {"Retry-After": "3"}, Outcome.TRANSIENT, 3.0),
        (504, {}, Outcome.TRANSIENT, None),
        (408, {}, Outcome.TRANSIENT, None),
        (400, {}, Outcome.PERMANENT, None),
        (401, {}, Outcome.PERMANENT, None),
        (403, {}, Outcome.PERMANENT, None),
        (404, {}, Outcome.PERMANENT, None),
        (422, {}, Outcome.PERMANENT, None),
    ],
)
def test_classify_status(status, headers, outcome, wait):
    decision = classify_status(status, headers)
    assert decision.outcome is outcome
    assert decision.retry_after_s == wait


def test_retry_after_http_date():
    now = time.time()
    when = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= parse_retry_after(when, now=now) <= 31


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (requests.exceptions.ConnectionError("reset by peer"), Outcome.TRANSIENT),
        (requests.exceptions.ReadTimeout("read timed out"), Outcome.TRANSIENT),
        (requests.exceptions.ChunkedEncodingError("broken"), Outcome.TRANSIENT),
        (ls_utils.LangSmithConnectionError("Connection error caused failure"), Outcome.TRANSIENT),
        (ls_utils.LangSmithError("Failed to GET /feedback in LangSmith API."), Outcome.TRANSIENT),
        (ValueError("bug"), Outcome.PERMANENT),
    ],
)
def test_classify_exception(exc, outcome):
    assert classify_exception(exc).outcome is outcome


def test_backoff_is_bounded_and_grows():
    waits = [backoff_s(n, 1.0, 10.0, 0.0) for n in range(1, 8)]
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(waits) == 10.0
    assert backoff_s(3, 1.0, 10.0, 0.5) == 6.0
