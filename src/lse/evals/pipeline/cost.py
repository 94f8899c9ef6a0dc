"""Cost per stage and in total, from reported usage at the one price table's synchronous rates.

Usage of every attempt that reported it counts, including failed and retried ones: that
is what the provider bills. An unpriced model makes its stage's cost (and the total)
None with the model named, never a silent 0.
"""

from __future__ import annotations

from lse.providers import prices
from lse.providers.usage import Usage


def stage_cost(model: str | None, usage: Usage) -> dict:
    usd = prices.cost_usd(model, usage)
    return {
        "model": model,
        "usage": usage.to_dict(),
        "cost_usd": usd,
        "priced": usd is not None,
    }


def run_cost(responses: dict | None, embeddings: dict | None) -> dict:
    stages = {k: v for k, v in (("responses", responses), ("embeddings", embeddings)) if v is not None}
    costs = [v.get("cost_usd") for v in stages.values()]
    priced = [float(c) for c in costs if c is not None]
    total = round(sum(priced), 10) if len(priced) == len(costs) else None
    return {
        **stages,
        "total_cost_usd": total,
        "currency": "USD",
        "pricing": prices.PRICING_TIER,
        "price_table_date": prices.PRICE_TABLE_DATE,
        "price_source": prices.PRICE_SOURCE,
    }
