"""The pure classifier: an error (or an HTTP status) and a service's rules in, a decision out.

It never sleeps, logs or counts, so it is tested with tables of real exception objects.
What differs between services (which statuses mean "slow down", which provider codes mean
"stop everything", which exception types are a lost connection) is a `ServiceRules`
value, not code: the OpenAI table lives with the OpenAI adapters, the LangSmith table with
the LangSmith client, and both are judged by these same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lse.retry.decision import RetryDecision, RetryKind
from lse.retry.waits import requested_wait_s

# Failures with no HTTP response, recognised by class name anywhere in the MRO, so httpx,
# requests, urllib3 and the builtins need no import here.
TIMEOUT_NAMES = frozenset({"TimeoutException", "TimeoutError", "ReadTimeout", "ConnectTimeout", "Timeout"})
DISCONNECT_NAMES = frozenset(
    {"ConnectError", "ConnectionError", "RemoteProtocolError", "ReadError", "NetworkError", "ChunkedEncodingError"}
)


@dataclass(frozen=True)
class ServiceRules:
    """How one remote service's failures map to decisions. Data, read by `classify_*`."""

    name: str
    # explicit statuses; any other 5xx is `server_errors`, any other 4xx `client_errors`
    statuses: Mapping[int, RetryKind] = field(
        default_factory=lambda: {429: RetryKind.RATE_LIMITED, 408: RetryKind.TRANSIENT}
    )
    server_errors: RetryKind = RetryKind.TRANSIENT
    client_errors: RetryKind = RetryKind.PERMANENT
    # provider error codes or types that stop the whole run whatever the status
    stop_codes: frozenset[str] = frozenset()
    # the code to report when the service sent none, per status
    default_codes: Mapping[int, str] = field(default_factory=dict)
    # failures without a response, by type (beside the generic names above)
    timeouts: tuple[type[BaseException], ...] = ()
    disconnects: tuple[type[BaseException], ...] = ()
    # codes our own translated errors carry for those (when no SDK object is chained)
    transient_codes: frozenset[str] = frozenset()
    # an lse error chaining one of these as `__cause__` is judged by that SDK object
    sdk_errors: tuple[type[BaseException], ...] = ()
    # last resort for an SDK's bare error that means "no response" (e.g. by its message)
    transient_when: Callable[[BaseException], bool] | None = None
    # kinds whose Retry-After (or retry-after-ms) is honoured as the wait
    honour_waits_for: frozenset[RetryKind] = frozenset({RetryKind.RATE_LIMITED, RetryKind.TRANSIENT})


# --- facts read off an error object (SDK or ours), never raising --------------------------


def status_of(exc: BaseException) -> int | None:
    for holder in (exc, getattr(exc, "response", None)):
        for attr in ("status_code", "status"):
            val = getattr(holder, attr, None)
            if isinstance(val, int) and not isinstance(val, bool):
                return val
    return None


def headers_of(exc: BaseException) -> dict[str, str]:
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "headers", None) is not None:
        return dict(response.headers)
    return dict(getattr(exc, "headers", None) or {})


def _error_body(exc: BaseException) -> dict | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        return inner if isinstance(inner, dict) else body
    return None


def error_code(exc: BaseException) -> str | None:
    """The provider's error code (`exc.code`, else body.error.code or .type)."""
    code = getattr(exc, "code", None)
    if code:
        return str(code)
    inner = _error_body(exc)
    for key in ("code", "type"):
        if inner and inner.get(key):
            return str(inner[key])
    return None


def error_type(exc: BaseException) -> str | None:
    kind = getattr(exc, "type", None)
    if isinstance(kind, str) and kind:
        return kind
    inner = _error_body(exc)
    return str(inner["type"]) if inner and inner.get("type") else None


def error_message(exc: BaseException) -> str:
    """The provider's own message (body.error.message or body.message), else str(exc)."""
    inner = _error_body(exc)
    if inner and inner.get("message"):
        return str(inner["message"])
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


def _named(exc: BaseException, names: frozenset[str]) -> bool:
    return any(c.__name__ in names for c in type(exc).__mro__)


# --- the classifier ----------------------------------------------------------------------


def classify_status(
    rules: ServiceRules,
    status: int,
    headers: Mapping[str, str] | None = None,
    *,
    code: str | None = None,
    error_kind: str | None = None,
    message: str | None = None,
) -> RetryDecision:
    """The decision for an HTTP answer with `status` (for transports that see responses)."""
    if status < 400:
        return RetryDecision(RetryKind.OK, status=status)
    code = code or rules.default_codes.get(status)
    if {code, error_kind} & rules.stop_codes:
        return RetryDecision(RetryKind.STOP_RUN, message or f"HTTP {status}", status, code or error_kind)
    kind = rules.statuses.get(status) or (rules.server_errors if status >= 500 else rules.client_errors)
    wait = requested_wait_s(headers) if kind in rules.honour_waits_for else None
    return RetryDecision(kind, message or f"HTTP {status}", status, code, wait)


def classify_error(rules: ServiceRules, exc: BaseException) -> RetryDecision:
    """The decision for one failed call, judged only from the exception object."""
    cause = exc.__cause__
    if rules.sdk_errors and not isinstance(exc, rules.sdk_errors) and isinstance(cause, rules.sdk_errors):
        return classify_error(rules, cause)  # an lse error: judge the SDK's own object
    status = status_of(exc)
    if status is not None:
        return classify_status(
            rules,
            status,
            headers_of(exc),
            code=error_code(exc),
            error_kind=error_type(exc),
            message=error_message(exc),
        )
    code = error_code(exc)
    if isinstance(exc, rules.timeouts) or _named(exc, TIMEOUT_NAMES) or code == "timeout":
        return RetryDecision(RetryKind.TRANSIENT, "timeout", code="timeout")
    if isinstance(exc, rules.disconnects) or _named(exc, DISCONNECT_NAMES) or code in rules.transient_codes:
        return RetryDecision(RetryKind.TRANSIENT, "connection error", code=code or "connection error")
    if rules.transient_when is not None and rules.transient_when(exc):
        return RetryDecision(RetryKind.TRANSIENT, error_message(exc), code=code)
    return RetryDecision(RetryKind.PERMANENT, f"{type(exc).__name__}: {exc}", code=code)
