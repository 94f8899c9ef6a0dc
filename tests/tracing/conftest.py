from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from helpers.fast_eval import fast_settings
from lse.sandbox.langfuse import LangfuseSandbox
from lse.settings import Settings


@pytest.fixture
def langfuse_sandbox() -> Iterator[LangfuseSandbox]:
    """A fresh Langfuse sandbox with keys of its own: the SDK keeps one exporter per public
    key for the whole process, so every test needs a key no earlier test used."""
    tag = uuid.uuid4().hex[:10]
    with LangfuseSandbox(public_key=f"pk-lf-{tag}", secret_key=f"sk-lf-{tag}") as sb:
        yield sb


def langfuse_settings(base: Settings, sb: LangfuseSandbox, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "langfuse_public_key": sb.public_key,
        "langfuse_secret_key": SecretStr(sb.secret_key),
        "langfuse_host": sb.url,
        "tracing_targets": "langfuse",
        "tracing_requests_per_minute": 60_000,
        "request_timeout_s": 3.0,
        **overrides,
    }
    return base.model_copy(update=values)


@pytest.fixture
def lf_settings(settings: Settings, openai_sandbox, langfuse_sandbox) -> Settings:
    """SQLite settings on the OpenAI sandbox, exporting to the Langfuse sandbox only."""
    return langfuse_settings(fast_settings(settings, openai_sandbox), langfuse_sandbox)
