"""Cost per stage and in total, from reported usage at the tier's rates (synchronous or batch).

Usage of every attempt that reported it counts, including failed and retried ones: that
is what the provider bills. An unpriced model makes its stage's cost (and the total)
None with the model named, never a silent 0.
"""

from __future__ import annotations

from lse.providers import batch_prices, prices
from lse.providers.usage import Usage


def stage_cost(model: str | None, usage: Usage) -> dict:
    usd = prices.cost_usd(model, usage)
    return {
        "model": model,
        "usage": usage.to_dict(),
        "cost_usd": usd,
        "priced": usd is not None,
    }


def run_cost(responses: dict | None, embeddings: dict | None, *, tier: str = prices.PRICING_TIER) -> dict:
    """The run's cost: each stage's figure and the total, with the tier the responses were
    priced at (`synchronous` for fast runs, `batch` for batch runs, whose stage figures
    carry their own table). A stage without a price makes the total None."""
    stages = {k: v for k, v in (("responses", responses), ("embeddings", embeddings)) if v is not None}
    costs = [v.get("cost_usd") for v in stages.values()]
    priced = [float(c) for c in costs if c is not None]
    total = round(sum(priced), 10) if len(priced) == len(costs) else None
    if tier == batch_prices.BATCH_PRICING_TIER:  # a stage without its own tier ran synchronously (embeddings)
        sync = {"pricing": prices.PRICING_TIER, "price_table_date": prices.PRICE_TABLE_DATE}
        stages = {k: v if "pricing" in v else {**v, **sync} for k, v in stages.items()}
        table = {
            "price_table_date": batch_prices.BATCH_PRICE_TABLE_DATE,
            "price_source": batch_prices.BATCH_PRICE_SOURCE,
        }
    else:
        table = {"price_table_date": prices.PRICE_TABLE_DATE, "price_source": prices.PRICE_SOURCE}
    return {**stages, "total_cost_usd": total, "currency": "USD", "pricing": tier, **table}
