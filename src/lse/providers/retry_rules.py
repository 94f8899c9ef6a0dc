"""OpenAI's failures as data for the one classifier (`lse.retry`).

- 429 `rate_limit_exceeded` → rate limited, wait = `retry-after-ms`, else `retry-after`;
- 408, 409, 5xx, timeouts, connection resets → transient;
- 401, and the codes that mean the account cannot pay (429 `insufficient_quota` and the
  billing and spend-limit codes) → stop the run: nothing will succeed;
- any other 4xx → permanent.
"""

from __future__ import annotations

import openai

from lse.retry import RetryDecision, RetryKind, ServiceRules, classify_error

OPENAI_RULES = ServiceRules(
    name="openai",
    statuses={
        429: RetryKind.RATE_LIMITED,
        401: RetryKind.STOP_RUN,
        408: RetryKind.TRANSIENT,
        409: RetryKind.TRANSIENT,
    },
    stop_codes=frozenset(
        {
            "insufficient_quota",
            "billing_hard_limit_reached",
            "account_deactivated",
            "credit_balance_exhausted",
            "organization_usage_limit_exceeded",
            "organization_spend_limit_exceeded",
            "project_spend_limit_exceeded",
        }
    ),
    default_codes={429: "rate_limit_exceeded", 401: "invalid_api_key"},
    timeouts=(openai.APITimeoutError,),
    disconnects=(openai.APIConnectionError,),
    transient_codes=frozenset({"timeout", "connection_error"}),
    sdk_errors=(openai.OpenAIError,),
)


def classify(exc: BaseException) -> RetryDecision:
    """What to do about one failed OpenAI call (an SDK exception or our translation of it)."""
    return classify_error(OPENAI_RULES, exc)
