"""OpenAI Batch API rates in USD per 1M tokens: the price table of batch-mode runs.

Source: OpenAI's public pricing page (https://platform.openai.com/docs/pricing), "Batch"
processing tier, as transcribed on 2025-08-15 (BATCH_PRICE_TABLE_DATE): half the Standard
rate for input and output. The cached-input column differs by model: the GPT-5 family lists
a batch cached-input rate (half the standard cached rate); for the others the Batch tier
lists none, so their cached tokens are billed here at the batch input rate (`cached_input`
None), which can only over-state a cost, never hide one. Check the page before relying on a
figure for billing; change a rate here and nowhere else.

The same rules as the synchronous table apply: cached tokens are part of input, reasoning
part of output; an unknown model is unpriced (None), never 0.
"""

from __future__ import annotations

import re

from lse.providers.prices import Rate, priced
from lse.providers.usage import Usage

BATCH_PRICE_TABLE_DATE = "2025-08-15"
BATCH_PRICE_SOURCE = "https://platform.openai.com/docs/pricing (Batch tier)"
BATCH_PRICING_TIER = "batch"

BATCH_RATES: dict[str, Rate] = {
    # GPT-5 family
    "gpt-5": Rate(0.625, 0.0625, 5.00),
    "gpt-5-mini": Rate(0.125, 0.0125, 1.00),
    "gpt-5-nano": Rate(0.025, 0.0025, 0.20),
    # GPT-4.1 family
    "gpt-4.1": Rate(1.00, None, 4.00),
    "gpt-4.1-mini": Rate(0.20, None, 0.80),
    "gpt-4.1-nano": Rate(0.05, None, 0.20),
    # GPT-4o family
    "gpt-4o": Rate(1.25, None, 5.00),
    "gpt-4o-mini": Rate(0.075, None, 0.30),
    # reasoning models
    "o1": Rate(7.50, None, 30.00),
    "o3": Rate(1.00, None, 4.00),
    "o3-mini": Rate(0.55, None, 2.20),
    "o4-mini": Rate(0.55, None, 2.20),
    # older
    "gpt-4-turbo": Rate(5.00, None, 15.00),
    "gpt-3.5-turbo": Rate(0.25, None, 0.75),
    # embeddings (input only)
    "text-embedding-3-small": Rate(0.01, None, 0.0),
    "text-embedding-3-large": Rate(0.065, None, 0.0),
    "text-embedding-ada-002": Rate(0.05, None, 0.0),
}


_SNAPSHOT = re.compile(r"^(?P<base>.+)-\d{4}-\d{2}-\d{2}$")


def batch_rate_for(model: str | None) -> Rate | None:
    """Exact name, or a dated snapshot of a known name (gpt-4o-2024-08-06 is gpt-4o).

    Any other variant (gpt-5-chat-latest, gpt-4o-audio-preview) is unpriced: its own price
    may differ, and a wrong figure is worse than none.
    """
    if not model:
        return None
    if model in BATCH_RATES:
        return BATCH_RATES[model]
    m = _SNAPSHOT.match(model)
    return BATCH_RATES.get(m.group("base")) if m else None


def batch_cost_usd(model: str | None, usage: Usage) -> float | None:
    """USD for `usage` on `model` at Batch API rates; None when the model is unpriced."""
    rate = batch_rate_for(model)
    return priced(rate, usage) if rate is not None else None
