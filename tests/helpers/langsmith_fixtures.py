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


def fetch_settings(tmp_path: Any, sb: LangSmithSandbox, **overrides: Any) -> Any:
    """Settings for fetching from `sb`: no pacing, short retry waits, a data dir under tmp_path."""
    from lse.settings import Settings

    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "langsmith_endpoint": sb.url,
        "langsmith_api_key": SANDBOX_KEY,
        "request_delay_ms": 0,
        "retry_base_wait_s": 0.01,
        "retry_max_wait_s": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


COSTS = {"total_cost", "prompt_cost", "completion_cost", "prompt_cost_details", "completion_cost_details"}


def _amounts(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: _amounts(v) for k, v in value.items()}
    return str(Decimal(value).normalize()) if isinstance(value, str) else value


def _stat_counts(stats: Any) -> dict[str, Any]:
    return {k: (v.get("n"), v.get("values")) for k, v in (stats or {}).items()}


def cross_api_differences(v1_run: dict[str, Any], v2_run: dict[str, Any]) -> list[str]:
    """Fields on which a run archived through v1 and the same run archived through v2 read
    differently, beyond what docs/v2-run-mapping.md documents:

    - fields only v1 serves are absent from the v2 run; fields only v2 serves are skipped;
    - feedback_stats agree on each key's record count `n` and label tally `values`;
    - first_token_time agrees where v1 had one (v2 gives a parent its subtree's earliest).
    """
    from lse.langsmith.v2_runs import V1_ONLY_FIELDS, V2_ONLY_FIELDS
    from lse.records.jsonl import dumps_line

    ours = {"feedback_records", "feedback_fetch_status", "feedback_fetch_error"}
    out = [f"{key} (v1 only, present in v2)" for key in V1_ONLY_FIELDS if key in v2_run]
    for key in sorted((set(v1_run) | set(v2_run)) - V1_ONLY_FIELDS - V2_ONLY_FIELDS):
        if key in ours and (key not in v1_run or key not in v2_run):
            continue  # lse's own fields, compared when both runs are stored runs
        a, b = v1_run.get(key), v2_run.get(key)
        if key == "feedback_stats":
            a, b = _stat_counts(a), _stat_counts(b)
        if key in COSTS:  # decimal strings: equal amounts ("0.0030" is "0.003")
            a, b = _amounts(a), _amounts(b)
        if key == "first_token_time" and a is None:
            continue
        if key not in v1_run or key not in v2_run or dumps_line(a) != dumps_line(b):
            out.append(key)
    return out
