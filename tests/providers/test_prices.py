"""The price table: synchronous rates, cached input and reasoning tokens priced right, unknown ≠ 0."""

from __future__ import annotations

import pytest

from lse.providers import prices
from lse.providers.usage import Usage


def test_cached_input_is_a_part_of_input_billed_at_the_cached_rate() -> None:
    usage = Usage(input_tokens=1_000_000, cached_tokens=400_000, output_tokens=0)
    # gpt-4o-mini: 0.15 input, 0.075 cached → 600k*0.15 + 400k*0.075 per 1M
    assert prices.cost_usd("gpt-4o-mini", usage) == pytest.approx(0.09 + 0.03)


def test_reasoning_tokens_are_output_tokens_never_added_twice() -> None:
    usage = Usage(input_tokens=0, output_tokens=1_000_000, reasoning_tokens=800_000)
    assert prices.cost_usd("o4-mini", usage) == pytest.approx(4.40)


def test_snapshots_use_their_family_and_unknown_models_are_unpriced() -> None:
    assert prices.rate_for("gpt-4o-mini-2024-07-18") == prices.RATES["gpt-4o-mini"]
    assert prices.rate_for("gpt-4o-2024-08-06") == prices.RATES["gpt-4o"]
    assert prices.cost_usd("my-local-model", Usage(input_tokens=10)) is None


def test_embeddings_bill_input_only() -> None:
    assert prices.cost_usd("text-embedding-3-small", Usage(input_tokens=1_000_000)) == pytest.approx(0.02)


def test_the_table_says_where_it_comes_from() -> None:
    assert prices.PRICE_TABLE_DATE and prices.PRICE_SOURCE.startswith("https://")
    assert prices.PRICING_TIER == "synchronous"
