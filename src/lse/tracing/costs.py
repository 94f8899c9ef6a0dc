"""An item's usage and lse's own cost for it, in the shapes Langfuse and LangSmith take.

The cost is what lse computed (the one price table, at the tier the run was priced at),
never left to the target: Langfuse would price a batch call at standard rates. Usage is
split into disjoint parts (uncached input, cached input, output) with an explicit total,
so no target adds a part twice; reasoning tokens are part of output and only reported.
A tier lse has no table for, or an unpriced model, gives no cost at all — then the
model name is withheld from Langfuse too, so it cannot put its own price on the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lse.providers import batch_prices, prices
from lse.providers.usage import Usage

# Tier name (as stored in a run's cost["pricing"]) → the price function of that tier.
TIER_PRICES: dict[str, Callable[[str | None, Usage], float | None]] = {
    prices.PRICING_TIER: prices.cost_usd,
    batch_prices.BATCH_PRICING_TIER: batch_prices.batch_cost_usd,
}


@dataclass(frozen=True)
class ItemCost:
    usage: dict[str, int]
    cost: dict[str, float] | None  # None: lse has no price for this call

    @property
    def total(self) -> float | None:
        return None if self.cost is None else self.cost["total"]


def _part(model: str | None, tier: str, usage: Usage) -> float | None:
    price = TIER_PRICES.get(tier)
    return price(model, usage) if price is not None else None


def item_cost(
    model: str | None, tier: str | None, input_tokens: int, cached_tokens: int, output_tokens: int
) -> ItemCost:
    cached = min(cached_tokens, input_tokens)
    usage = {
        "input": input_tokens - cached,
        "input_cached_tokens": cached,
        "output": output_tokens,
        "total": input_tokens + output_tokens,
    }
    tier = tier or prices.PRICING_TIER
    total = _part(model, tier, Usage(input_tokens=input_tokens, cached_tokens=cached, output_tokens=output_tokens))
    if total is None:
        return ItemCost(usage, None)
    uncached_in = _part(model, tier, Usage(input_tokens=input_tokens - cached)) or 0.0
    cached_in = _part(model, tier, Usage(input_tokens=cached, cached_tokens=cached)) or 0.0
    output = _part(model, tier, Usage(output_tokens=output_tokens)) or 0.0
    return ItemCost(usage, {"input": uncached_in, "input_cached_tokens": cached_in, "output": output, "total": total})
