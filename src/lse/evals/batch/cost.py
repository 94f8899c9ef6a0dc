"""Cost of a batch-mode stage at Batch API rates, from what each request line was billed.

Usage is summed over every collected request of every round (a line that failed but
reported usage was billed too), so a request paid in round 1 and again in round 2 counts
twice, as it was paid. An unpriced model gives `cost_usd` None, never 0; the tier, table
date and source travel with the figure.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lse.evals.batch.repository import BatchRepository
from lse.providers import batch_prices
from lse.providers.usage import Usage
from lse.store.engine import unit_of_work
from lse.store.models.batches import EvaluationBatch, EvaluationBatchRequest


def batch_stage_cost(model: str | None, usage: Usage) -> dict[str, Any]:
    usd = batch_prices.batch_cost_usd(model, usage)
    return {
        "model": model,
        "usage": usage.to_dict(),
        "cost_usd": usd,
        "priced": usd is not None,
        "pricing": batch_prices.BATCH_PRICING_TIER,
        "price_table_date": batch_prices.BATCH_PRICE_TABLE_DATE,
        "price_source": batch_prices.BATCH_PRICE_SOURCE,
    }


def billed_usage(repo: BatchRepository, run_id: int, stage: str) -> Usage:
    """Usage of every collected request line of the run's `stage` batches."""
    total = Usage()
    with unit_of_work(repo.engine) as s:
        rows = s.scalars(
            select(EvaluationBatchRequest.usage)
            .join(EvaluationBatch, EvaluationBatch.id == EvaluationBatchRequest.batch_id)
            .where(
                EvaluationBatch.run_id == run_id,
                EvaluationBatch.stage == stage,
                EvaluationBatchRequest.usage.is_not(None),
            )
        )
        for usage in rows:
            if not usage:  # a JSON null
                continue
            total.add(Usage(**{k: int(v) for k, v in usage.items() if k in Usage.__dataclass_fields__}))
    return total
