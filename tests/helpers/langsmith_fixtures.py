"""Pytest fixtures for the local LangSmith-compatible server.

- `langsmith_sandbox`: a small world (one day, every hard case), started and stopped per test.
- `make_langsmith_sandbox(specs=None, **kw)`: build your own; every one is stopped after the test.
- `sdk_client(sb, retries=...)`: the real `langsmith.Client` pointed at a sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from lse.sandbox.langsmith import LangSmithSandbox, SandboxSpec

SANDBOX_DAY = date(2026, 11, 20)
SANDBOX_KEY = "sandbox-key"


def small_spec(**overrides: Any) -> SandboxSpec:
    """One day of 20 traces plus the hard cases: quick to build, enough to page through."""
    values: dict[str, Any] = {
        "project": "demo-project",
        "days": [SANDBOX_DAY],
        "traces_per_day": 20,
        "children_per_trace": (0, 4),
        "feedback_trace_share": 0.3,
        "seed": 7,
        "hard_cases": True,
    }
    values.update(overrides)
    return SandboxSpec(**values)


def sdk_client(sb: LangSmithSandbox, *, retries: bool = False, api_key: str | None = None) -> Any:
    """A real SDK client on the sandbox. With `retries=False` the SDK's urllib3 retries are
    off, so each fault reaches the caller exactly once."""
    from urllib3.util.retry import Retry

    import langsmith

    kwargs: dict[str, Any] = {}
    if not retries:
        kwargs["retry_config"] = Retry(total=0, status_forcelist=[], raise_on_status=False)
    return langsmith.Client(api_url=sb.url, api_key=api_key or sb.api_key, auto_batch_tracing=False, **kwargs)


@pytest.fixture
def langsmith_sandbox() -> Iterator[LangSmithSandbox]:
    with LangSmithSandbox([small_spec()], api_key=SANDBOX_KEY) as sb:
        yield sb


@pytest.fixture
def make_langsmith_sandbox() -> Iterator[Callable[..., LangSmithSandbox]]:
    started: list[LangSmithSandbox] = []

    def factory(
        specs: list[SandboxSpec] | None = None, *, api_key: str = SANDBOX_KEY, start: bool = True, **kwargs: Any
    ) -> LangSmithSandbox:
        sb = LangSmithSandbox(specs if specs is not None else [small_spec()], api_key=api_key, **kwargs)
        started.append(sb)
        return sb.start() if start else sb

    yield factory
    for sb in started:
        sb.stop()
