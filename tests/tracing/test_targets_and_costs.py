"""Which targets a project exports to, what an item costs in them, and the pace of calls."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from lse.errors import ConfigError
from lse.providers import prices
from lse.providers.usage import Usage
from lse.settings import Settings
from lse.tracing.costs import item_cost
from lse.tracing.pacing import Pacer
from lse.tracing.targets import deployment_targets, resolve_targets


def configured(settings: Settings, **extra: object) -> Settings:
    return settings.model_copy(
        update={
            "langfuse_public_key": "pk-lf-1",
            "langfuse_secret_key": SecretStr("sk-lf-1"),
            "langfuse_host": "https://lf.example/",
            "langsmith_api_key": SecretStr("ls-key"),
            **extra,
        }
    )


def test_nothing_is_a_target_until_its_keys_are_set(settings) -> None:
    assert deployment_targets(settings).configured() == []
    half = settings.model_copy(update={"langfuse_public_key": "pk-lf-1"})  # no secret key
    assert deployment_targets(half).langfuse is None


def test_targets_come_from_settings_and_lse_tracing_targets_enables_them(settings) -> None:
    both = resolve_targets(configured(settings), 1, 1)
    assert both.langfuse is not None and both.langsmith is not None
    assert both.langfuse.host == "https://lf.example" and both.langfuse.destination.endswith("#pk-lf-1")
    assert "ls-key" not in both.langsmith.destination  # only a fingerprint of the key
    only_lf = resolve_targets(configured(settings, tracing_targets="langfuse"), 1, 1)
    assert only_lf.langsmith is None and only_lf.langfuse is not None
    # an explicit export names its target whatever the background list says
    explicit = resolve_targets(configured(settings, tracing_targets=""), 1, 1, only="langsmith", explicit=True)
    assert explicit.langsmith is not None and explicit.langfuse is None
    with pytest.raises(ConfigError, match="LSE_TRACING_TARGETS"):
        resolve_targets(configured(settings, tracing_targets="langfuse,datadog"), 1, 1)


def test_an_items_cost_is_lses_own_split_into_disjoint_parts() -> None:
    cost = item_cost("gpt-4o-mini", "synchronous", input_tokens=1000, cached_tokens=400, output_tokens=50)
    assert cost.usage == {"input": 600, "input_cached_tokens": 400, "output": 50, "total": 1050}
    full = prices.cost_usd("gpt-4o-mini", Usage(input_tokens=1000, cached_tokens=400, output_tokens=50))
    assert cost.total == full
    parts = cost.cost or {}
    assert parts["input"] + parts["input_cached_tokens"] + parts["output"] == pytest.approx(full)


def test_a_batch_item_costs_batch_rates_and_no_price_means_no_cost() -> None:
    from lse.providers import batch_prices

    batch = item_cost("gpt-4o-mini", "batch", 1000, 0, 100)
    assert batch.total == batch_prices.batch_cost_usd("gpt-4o-mini", Usage(input_tokens=1000, output_tokens=100))
    sync = item_cost("gpt-4o-mini", "synchronous", 1000, 0, 100)
    assert batch.total is not None and sync.total is not None and batch.total < sync.total
    assert item_cost("some-new-model", "synchronous", 10, 0, 5).cost is None
    # a tier lse has no table for is unpriced, never priced at another tier's rates
    assert item_cost("gpt-4o-mini", "flex", 10, 0, 5).cost is None


def test_the_pacer_keeps_calls_apart() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacer = Pacer(120, clock=lambda: clock[0], sleep=sleep)  # one call per 0.5 s
    for _ in range(4):
        pacer.wait()
    assert slept == [0.5, 0.5, 0.5]


def test_one_langfuse_key_is_never_pointed_at_two_hosts(langfuse_sandbox) -> None:
    """The SDK would silently keep sending to the first host; lse refuses instead."""
    from lse.tracing.langfuse_client import langfuse_client
    from lse.tracing.targets import LangfuseTarget

    sb = langfuse_sandbox
    first = LangfuseTarget(host=sb.url, public_key=sb.public_key, secret_key=sb.secret_key)
    assert langfuse_client(first) is langfuse_client(first)
    moved = LangfuseTarget(host="http://127.0.0.1:9", public_key=sb.public_key, secret_key=sb.secret_key)
    with pytest.raises(ConfigError, match="already in use"):
        langfuse_client(moved)
