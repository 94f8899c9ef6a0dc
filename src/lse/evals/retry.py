"""Retry = a pure classifier + one policy builder.

`classify(exc) -> RetryDecision` looks only at the exception object (status, provider
error code, headers); it never sleeps, logs or counts, so it is tested with a table of
real SDK exception objects. Kinds:

- `rate_limit`: 429 rate_limit_exceeded — retry after the provider's wait; the rate adapter
  slows the whole run;
- `transient`: 408, 409, 5xx, timeouts, connection resets — retry with backoff + jitter;
- `permanent`: 400, 403, 404, 422 (any other 4xx) — fail the item now with the provider's message;
- `stop_run`: 429 insufficient_quota, 401 — nothing will succeed, stop the whole run.

`retrying(settings)` builds the tenacity policy: bounded attempts, the provider's
retry-after-ms / retry-after when given (capped), else exponential backoff with jitter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import tenacity

from lse.providers.errors import provider_code, provider_message
from lse.retry_after import retry_after_ms, retry_after_s

RATE_LIMIT = "rate_limit"
TRANSIENT = "transient"
PERMANENT = "permanent"
STOP_RUN = "stop_run"

_STOP_CODES = {"insufficient_quota", "billing_hard_limit_reached", "account_deactivated"}


@dataclass(frozen=True)
class RetryDecision:
    kind: str
    reason: str
    status: int | None = None
    code: str | None = None
    wait_s: float | None = None  # the provider's requested wait, if it said

    @property
    def retryable(self) -> bool:
        return self.kind in (RATE_LIMIT, TRANSIENT)

    @property
    def stops_run(self) -> bool:
        return self.kind == STOP_RUN


def requested_wait_s(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds the provider asks us to wait: retry-after-ms, else retry-after (secs or HTTP date).

    None when it did not say or said something unreadable (e.g. "soon"): never an exception,
    because this runs while a failed call still holds its rate-adapter slot.
    """
    if not headers:
        return None
    h = {k.lower(): v for k, v in headers.items()}
    wait = retry_after_ms(h.get("retry-after-ms"))
    return wait if wait is not None else retry_after_s(h.get("retry-after"), now)


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "status"):
        val = getattr(exc, attr, None)
        if isinstance(val, int):
            return val
    return None


def _headers(exc: BaseException) -> dict[str, str]:
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "headers", None) is not None:
        return dict(response.headers)
    return dict(getattr(exc, "headers", None) or {})


def _is_timeout_or_connection(exc: BaseException) -> str | None:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection error"
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"TimeoutException", "TimeoutError", "ReadTimeout", "ConnectTimeout"}:
        return "timeout"
    if names & {"ConnectError", "ConnectionError", "RemoteProtocolError", "ReadError", "NetworkError"}:
        return "connection error"
    return None


def classify(exc: BaseException) -> RetryDecision:
    """What to do about one failed provider call. Pure: looks only at the exception object."""
    import openai

    if not isinstance(exc, openai.OpenAIError) and isinstance(exc.__cause__, openai.OpenAIError):
        return classify(exc.__cause__)  # an lse ProviderCallError: judge the SDK's own object
    status = _status(exc)
    if status is None:
        transport = _is_timeout_or_connection(exc)
        code = getattr(exc, "provider_code", None)
        if transport or code in ("timeout", "connection_error"):
            return RetryDecision(TRANSIENT, transport or str(code), code=code or transport)
        return RetryDecision(PERMANENT, f"{type(exc).__name__}: {exc}")
    code = provider_code(exc)
    headers = _headers(exc)
    message = provider_message(exc)
    if status == 429:
        if code in _STOP_CODES or getattr(exc, "type", None) in _STOP_CODES:
            return RetryDecision(STOP_RUN, message, status, code or "insufficient_quota")
        return RetryDecision(RATE_LIMIT, message, status, code or "rate_limit_exceeded", requested_wait_s(headers))
    if status == 401:
        return RetryDecision(STOP_RUN, message, status, code or "invalid_api_key")
    if status in (408, 409) or status >= 500:
        return RetryDecision(TRANSIENT, message, status, code, requested_wait_s(headers))
    return RetryDecision(PERMANENT, message, status, code)


def _wait_strategy(initial: float, cap: float) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_exponential_jitter(initial=initial, max=cap, jitter=initial)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        decision = classify(exc) if exc is not None else None
        if decision is not None and decision.wait_s is not None:
            return min(cap, decision.wait_s)
        return min(cap, backoff(state))

    return wait


def retrying(
    *,
    max_attempts: int,
    max_wait_s: float,
    initial_wait_s: float = 0.25,
    before_sleep: Callable[[tenacity.RetryCallState], Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tenacity.Retrying:
    """The one retry policy: retry what `classify` calls retryable, at most `max_attempts` tries."""
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max_attempts),
        wait=_wait_strategy(min(initial_wait_s, max_wait_s), max_wait_s),
        retry=tenacity.retry_if_exception(lambda e: classify(e).retryable),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
