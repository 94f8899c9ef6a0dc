"""The one place a `langsmith.Client` is built: endpoint, key and timeout from settings.

The SDK's own urllib3 retries are turned off (`Retry(total=0)`) so that every attempt
goes through our pacer and retry policy and is counted exactly once.
"""

from __future__ import annotations

from urllib3.util.retry import Retry

import langsmith
from lse.errors import ConfigError
from lse.settings import Settings


def check_langsmith_settings(settings: Settings) -> str:
    """The endpoint to use, once the key and endpoint settings are usable (else ConfigError)."""
    if settings.langsmith_api_key is None or not settings.langsmith_api_key.get_secret_value():
        raise ConfigError("LANGSMITH_API_KEY is not set: export it (or put it in .env) to fetch from LangSmith")
    endpoint = settings.langsmith_endpoint.rstrip("/")
    if not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"LANGSMITH_ENDPOINT must be an http(s) URL, got {endpoint!r}")
    return endpoint


def make_client(settings: Settings) -> langsmith.Client:
    endpoint = check_langsmith_settings(settings)
    assert settings.langsmith_api_key is not None  # checked above
    return langsmith.Client(
        api_url=endpoint,
        api_key=settings.langsmith_api_key.get_secret_value(),
        retry_config=Retry(total=0, raise_on_status=False, raise_on_redirect=False),
        timeout_ms=int(settings.request_timeout_s * 1000),
        auto_batch_tracing=False,
        info={},
    )
