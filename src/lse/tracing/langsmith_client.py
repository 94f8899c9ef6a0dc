"""The official LangSmith client for one export target, and its errors in lse's terms.

Automatic batch tracing is off: every run and feedback write is one synchronous request,
so the outbox knows it landed (2xx), already existed (409 on a run id: the SDK treats it
as done) or failed, before it records anything.
"""

from __future__ import annotations

import re

import langsmith
from langsmith import utils as ls_utils
from lse.errors import LseError, RateLimited, UpstreamError, UpstreamRejected
from lse.tracing.targets import LangSmithTarget


def langsmith_client(target: LangSmithTarget, *, timeout_s: float = 60.0) -> langsmith.Client:
    return langsmith.Client(
        api_url=target.endpoint,
        api_key=target.api_key,
        auto_batch_tracing=False,
        timeout_ms=int(timeout_s * 1000),
    )


_STATUS = re.compile(r"\b([1-5]\d\d) (?:Client|Server) Error")


def translate(exc: Exception, doing: str) -> LseError:
    """Retryable (UpstreamError) unless LangSmith refused the request itself. Once its own
    retries are spent the SDK raises its base error class for a 5xx too, so the status in
    the message decides."""
    if isinstance(exc, LseError):
        return exc
    message = f"LangSmith failed while {doing}: {exc}"
    if isinstance(exc, ls_utils.LangSmithRateLimitError):
        return RateLimited(message, code="langsmith_rate_limited")
    transient = (ls_utils.LangSmithAPIError, ls_utils.LangSmithConnectionError, ls_utils.LangSmithRequestTimeout)
    if isinstance(exc, transient):
        return UpstreamError(message, code="langsmith_unavailable")
    if isinstance(exc, ls_utils.LangSmithError):
        found = _STATUS.search(str(exc))
        status = int(found.group(1)) if found else None
        if status is not None and (status >= 500 or status in (408, 429)):
            return UpstreamError(message, code="langsmith_unavailable")
        return UpstreamRejected(message, code="langsmith_rejected")
    return UpstreamError(f"LangSmith export failed while {doing}: {exc!r}", code="langsmith_error")
