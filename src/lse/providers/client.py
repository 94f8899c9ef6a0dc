"""The one place every OpenAI SDK client is built: base URL, key and timeout from settings.

SDK retries are off (`max_retries=0`): lse's own policy (`lse.retry` judged by
`providers.retry_rules`) decides what to retry, so each attempt is made, counted and paced
exactly once. Tests swap the
endpoint (the sandbox on loopback), never this function.
"""

from __future__ import annotations

import openai

from lse.errors import ConfigError
from lse.settings import Settings


def openai_client(settings: Settings, *, timeout: float | None = None) -> openai.OpenAI:
    """A synchronous, thread-safe client; `timeout` defaults to the fast-eval call timeout."""
    secret = settings.openai_api_key
    key = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
    if not key:
        raise ConfigError("OPENAI_API_KEY is not set: export it (or put it in .env) and retry")
    return openai.OpenAI(
        api_key=key,
        base_url=settings.openai_base_url or None,
        timeout=timeout if timeout is not None else settings.eval_fast_call_timeout_s,
        max_retries=0,
    )
