"""LangSmith's failures as data for the one classifier (`lse.retry`).

- 429 → rate limited: wait `Retry-After` (seconds or an HTTP date); a 429 with an HTML
  body and no header is still a rate limit, met with exponential backoff;
- 408, 425, 5xx, timeouts, connection resets, a body that is not JSON → transient
  (a 503's `Retry-After` is honoured too);
- 401 → stop: the key is wrong, no other request will succeed;
- any other 4xx → permanent, fail at once.

The transport turns each answer into an exception the classifier reads: an SDK or
`requests` exception as raised, an `HTTPError` carrying the response, or our own
`UpstreamError` with code `NOT_JSON` for a 200 that is not JSON.
"""

from __future__ import annotations

import requests

from langsmith import utils as ls_utils
from lse.retry import RetryDecision, RetryKind, ServiceRules, classify_error

NOT_JSON = "not_json"


def _failed_before_response(exc: BaseException) -> bool:
    """`request_with_retries` raises a bare `LangSmithError("Failed to …")` when the
    connection failed before any response existed (its `to_ignore` path has nothing to return)."""
    return isinstance(exc, ls_utils.LangSmithError) and "Failed to" in str(exc)


LANGSMITH_RULES = ServiceRules(
    name="langsmith",
    statuses={
        429: RetryKind.RATE_LIMITED,
        401: RetryKind.STOP_RUN,
        408: RetryKind.TRANSIENT,
        425: RetryKind.TRANSIENT,
    },
    timeouts=(requests.exceptions.Timeout, ls_utils.LangSmithRequestTimeout),
    disconnects=(
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        ConnectionResetError,
        ls_utils.LangSmithConnectionError,
    ),
    transient_codes=frozenset({NOT_JSON}),
    transient_when=_failed_before_response,
)


def classify(exc: BaseException) -> RetryDecision:
    """What to do about one failed LangSmith request."""
    return classify_error(LANGSMITH_RULES, exc)
