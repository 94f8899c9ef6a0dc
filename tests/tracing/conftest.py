from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from helpers.fast_eval import fast_settings
from helpers.tracing_runs import langfuse_settings
from lse.sandbox.langfuse import LangfuseSandbox
from lse.settings import Settings


@pytest.fixture
def langfuse_sandbox() -> Iterator[LangfuseSandbox]:
    """A fresh Langfuse sandbox with keys of its own: the SDK keeps one exporter per public
    key for the whole process, so every test needs a key no earlier test used."""
    tag = uuid.uuid4().hex[:10]
    with LangfuseSandbox(public_key=f"pk-lf-{tag}", secret_key=f"sk-lf-{tag}") as sb:
        yield sb


@pytest.fixture
def lf_settings(settings: Settings, openai_sandbox, langfuse_sandbox) -> Settings:
    """SQLite settings on the OpenAI sandbox, exporting to the Langfuse sandbox only."""
    return langfuse_settings(fast_settings(settings, openai_sandbox), langfuse_sandbox)
