"""A pure classifier of LangSmith responses and transport failures, and the wait it implies.

    classify_status(status, headers)  -> RetryDecision
    classify_exception(exc)           -> RetryDecision

429 honours `Retry-After` (seconds or an HTTP date) and copes with a 429 that has an
HTML body and no header (exponential backoff); 5xx, 408, timeouts and connection resets
are transient; any other 4xx is permanent and fails fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import requests

from langsmith import utils as ls_utils
from lse.retry_after import retry_after_s


class Outcome(StrEnum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class RetryDecision:
    outcome: Outcome
    retry_after_s: float | None = None  # what the server asked for, if it said

    @property
    def retryable(self) -> bool:
        return self.outcome in (Outcome.RATE_LIMITED, Outcome.TRANSIENT)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    return retry_after_s(value, now)


def classify_status(status: int, headers: dict[str, str] | None = None) -> RetryDecision:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if 200 <= status < 300:
        return RetryDecision(Outcome.OK)
    if status == 429:
        return RetryDecision(Outcome.RATE_LIMITED, parse_retry_after(headers.get("retry-after")))
    if status in (408, 425) or status >= 500:
        return RetryDecision(Outcome.TRANSIENT, parse_retry_after(headers.get("retry-after")))
    return RetryDecision(Outcome.PERMANENT)


def classify_exception(exc: BaseException) -> RetryDecision:
    """Failures with no HTTP response: timeouts, resets, refused connections."""
    if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
        return RetryDecision(Outcome.TRANSIENT)
    if isinstance(exc, (ls_utils.LangSmithConnectionError, ls_utils.LangSmithRequestTimeout)):
        return RetryDecision(Outcome.TRANSIENT)
    if isinstance(exc, ls_utils.LangSmithError) and "Failed to" in str(exc):
        # request_with_retries raises this bare error when the connection failed before
        # any response existed (its to_ignore path has nothing to return).
        return RetryDecision(Outcome.TRANSIENT)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, ConnectionResetError)):
        return RetryDecision(Outcome.TRANSIENT)
    return RetryDecision(Outcome.PERMANENT)


def backoff_s(attempt: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Bounded exponential backoff: base * 2^(attempt-1), capped, plus up to `jitter` of it."""
    raw = min(cap_s, base_s * (2 ** max(0, attempt - 1)))
    return min(cap_s, raw * (1.0 + jitter))
