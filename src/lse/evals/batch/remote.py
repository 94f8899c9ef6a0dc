"""One remote step, retried the one way lse retries provider calls (`lse.retry`, OpenAI's rules).

Transient failures (5xx, timeouts, connection resets, 429) are retried with backoff up to
`RemoteRetry.max_attempts`; anything else is raised at once. `attempt` receives the attempt
number, so a step whose earlier attempt may have landed (a create whose answer was lost)
can look before it acts again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lse.evals.batch.config import RemoteRetry
from lse.providers.retry_rules import classify
from lse.retry import retrying

T = TypeVar("T")


def call_remote(step: Callable[[int], T], retry: RemoteRetry) -> T:
    attempts = 0

    def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return step(attempts)

    policy = retrying(
        classify,
        max_attempts=retry.max_attempts,
        max_wait_s=retry.max_wait_s,
        initial_wait_s=retry.initial_wait_s,
        sleep=retry.sleep,
    )
    return policy(attempt)


def is_transient(exc: BaseException) -> bool:
    """True when trying again later may succeed (what the retry classifier calls retryable)."""
    return classify(exc).retryable
