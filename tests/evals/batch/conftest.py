"""Batch-core fixtures: a frozen-clock OpenAI sandbox, and a `BatchKit` on a fresh database
pointed at it (tests/helpers/batch_eval.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.batch_eval import BatchKit, RunDriver, make_driver, make_kit
from lse.sandbox.openai import OpenAISandbox
from lse.settings import Settings


@pytest.fixture
def sb() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(api_key="sk-sandbox") as sandbox:
        sandbox.batches.clock.freeze()
        yield sandbox


@pytest.fixture
def kit(settings: Settings, sb: OpenAISandbox) -> Iterator[BatchKit]:
    k = make_kit(settings, sb)
    yield k
    k.client.close()


@pytest.fixture
def driver(settings: Settings, sb: OpenAISandbox) -> RunDriver:
    return make_driver(settings, sb)
