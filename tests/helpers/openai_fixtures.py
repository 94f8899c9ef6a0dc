"""Pytest fixtures for the local OpenAI-compatible server.

`openai_sandbox` is a fresh server per test (faults off, stats empty); `make_openai_sandbox`
builds more (other keys, preset faults) and stops them all at teardown; `openai_client` is a
real `openai.OpenAI` bound to `openai_sandbox` with retries off, so every fault surfaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from lse.sandbox.openai import OpenAISandbox


@pytest.fixture
def openai_sandbox() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(api_key="sk-sandbox") as sandbox:
        yield sandbox


@pytest.fixture
def make_openai_sandbox() -> Iterator[Callable[..., OpenAISandbox]]:
    """`make_openai_sandbox(api_key=..., faults=OpenAIFaults(...))` -> a started sandbox."""
    started: list[OpenAISandbox] = []

    def make(**kwargs: Any) -> OpenAISandbox:
        sandbox = OpenAISandbox(**kwargs).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in reversed(started):
        sandbox.stop()


@pytest.fixture
def openai_client(openai_sandbox: OpenAISandbox) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=openai_sandbox.base_url, api_key=openai_sandbox.api_key, max_retries=0)
    yield client
    client.close()
