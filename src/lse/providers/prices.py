"""The one price table: OpenAI synchronous (standard-tier, non-Batch) rates in USD per 1M tokens.

Source: OpenAI's public pricing page (https://platform.openai.com/docs/pricing),
"Standard" processing tier, as transcribed on 2025-08-15 (PRICE_TABLE_DATE). Batch API
rates are half of these and do NOT apply to fast runs. Check the page before relying on
a figure for billing; change a rate here and nowhere else.

How usage maps to money (the API reports parts inside totals):
- `cached_tokens` are a part of `input_tokens` → billed at the cached-input rate, the
  rest of the input at the input rate;
- `reasoning_tokens` are a part of `output_tokens` → billed as output, never added twice;
- embeddings bill input tokens only.
An unknown model is "unpriced" (cost None), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from lse.providers.usage import Usage

PRICE_TABLE_DATE = "2025-08-15"
PRICE_SOURCE = "https://platform.openai.com/docs/pricing (Standard tier)"
PRICING_TIER = "synchronous"


@dataclass(frozen=True)
class Rate:
    input: float  # USD per 1M input tokens
    cached_input: float | None  # USD per 1M cached input tokens (None: no discount)
    output: float  # USD per 1M output tokens (reasoning tokens included)


RATES: dict[str, Rate] = {
    # GPT-5 family
    "gpt-5": Rate(1.25, 0.125, 10.00),
    "gpt-5-mini": Rate(0.25, 0.025, 2.00),
    "gpt-5-nano": Rate(0.05, 0.005, 0.40),
    "gpt-5-chat-latest": Rate(1.25, 0.125, 10.00),
    # GPT-4.1 family
    "gpt-4.1": Rate(2.00, 0.50, 8.00),
    "gpt-4.1-mini": Rate(0.40, 0.10, 1.60),
    "gpt-4.1-nano": Rate(0.10, 0.025, 0.40),
    # GPT-4o family
    "gpt-4o": Rate(2.50, 1.25, 10.00),
    "gpt-4o-mini": Rate(0.15, 0.075, 0.60),
    # reasoning models
    "o1": Rate(15.00, 7.50, 60.00),
    "o3": Rate(2.00, 0.50, 8.00),
    "o3-mini": Rate(1.10, 0.55, 4.40),
    "o4-mini": Rate(1.10, 0.275, 4.40),
    # older
    "gpt-4-turbo": Rate(10.00, None, 30.00),
    "gpt-3.5-turbo": Rate(0.50, None, 1.50),
    # embeddings (input only)
    "text-embedding-3-small": Rate(0.02, None, 0.0),
    "text-embedding-3-large": Rate(0.13, None, 0.0),
    "text-embedding-ada-002": Rate(0.10, None, 0.0),
}


def rate_for(model: str | None) -> Rate | None:
    """Exact name, else the longest known prefix (dated snapshots: gpt-4o-2024-08-06)."""
    if not model:
        return None
    if model in RATES:
        return RATES[model]
    best = None
    for name in RATES:
        if model.startswith(name + "-") and (best is None or len(name) > len(best)):
            best = name
    return RATES[best] if best else None


def cost_usd(model: str | None, usage: Usage) -> float | None:
    """USD for `usage` on `model` at synchronous rates; None when the model is unpriced."""
    rate = rate_for(model)
    return priced(rate, usage) if rate is not None else None


def priced(rate: Rate, usage: Usage) -> float:
    """USD for `usage` at `rate` (per million tokens; cached input at its own rate when it has one)."""
    cached = min(usage.cached_tokens, usage.input_tokens)
    cached_rate = rate.cached_input if rate.cached_input is not None else rate.input
    total = (
        (usage.input_tokens - cached) * rate.input + cached * cached_rate + usage.output_tokens * rate.output
    ) / 1_000_000
    return round(total, 10)
