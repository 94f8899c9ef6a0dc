"""SDK exceptions translated into the lse error tree where they enter.

`ProviderCallError` keeps what the retry classifier and the rate adapter need (status,
provider error code, response headers, any usage the failed call reported) and chains
the original SDK exception as `__cause__`, so the classifier (`providers.retry_rules`) can
still look at the real object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from lse.errors import AuthError, LseError, RateLimited, UpstreamError, UpstreamRejected
from lse.retry import error_code, error_message


class ProviderCallError(UpstreamError):
    """One failed provider call; `status` is None for timeouts and connection errors."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        provider_code: str | None,
        headers: Mapping[str, str] | None = None,
        usage: dict[str, Any] | None = None,
    ):
        super().__init__(message, code=provider_code or None)
        self.status = status
        self.provider_code = provider_code
        self.headers = dict(headers or {})
        self.usage = usage


class ProviderRateLimited(ProviderCallError, RateLimited):
    pass


class ProviderRejected(ProviderCallError, UpstreamRejected):
    pass


class ProviderAuthError(ProviderCallError, AuthError):
    pass


provider_message = error_message  # the provider's own message, else str(exc)
provider_code = error_code  # body.error.code (or .type), else None


def _usage_from_body(body: object) -> dict[str, Any] | None:
    if isinstance(body, dict):
        usage = body.get("usage")
        if usage is None and isinstance(body.get("response"), dict):
            usage = body["response"].get("usage")
        if isinstance(usage, dict):
            return usage
    return None


def translate(exc: BaseException, *, what: str) -> LseError:
    """An lse error for an SDK exception raised by the call described by `what`."""
    if isinstance(exc, LseError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        err: LseError = ProviderCallError(
            f"{what}: the provider did not answer in time", status=None, provider_code="timeout"
        )
    elif isinstance(exc, openai.APIConnectionError):
        err = ProviderCallError(
            f"{what}: could not reach the provider ({provider_message(exc)}); check OPENAI_BASE_URL",
            status=None,
            provider_code="connection_error",
        )
    elif isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        code = provider_code(exc)
        headers = dict(exc.response.headers) if exc.response is not None else {}
        usage = _usage_from_body(exc.body)
        text = f"{what}: HTTP {status}: {provider_message(exc)}"
        if status == 429:
            cls: type[ProviderCallError] = ProviderRateLimited
        elif status == 401:
            cls = ProviderAuthError
            text += " (check OPENAI_API_KEY)"
        elif 400 <= status < 500 and status not in (408, 409):
            cls = ProviderRejected
        else:
            cls = ProviderCallError
        err = cls(text, status=status, provider_code=code, headers=headers, usage=usage)
    elif isinstance(exc, openai.OpenAIError):
        err = ProviderCallError(f"{what}: {exc}", status=None, provider_code=None)
    else:
        err = ProviderCallError(f"{what}: {type(exc).__name__}: {exc}", status=None, provider_code=None)
    err.__cause__ = exc
    return err
