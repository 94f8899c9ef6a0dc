"""The one retry policy builder on tenacity: bounded attempts, the server's wait when it gave
one (capped), else exponential backoff with jitter; only what the classifier calls
retryable is retried.

Refusals for rate (429 "slow down") and failures (5xx, timeouts) are bounded apart: a
rate-limited attempt is the service saying "not yet", which a paced caller should meet
with patience, so it has its own, larger bound (`max_rate_limited`) instead of eating the
attempts meant for real failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import tenacity

from lse.retry.decision import RetryDecision, RetryKind

Classify = Callable[[BaseException], RetryDecision]

INITIAL_WAIT_S = 0.25


class _Bounds:
    """tenacity `stop`: at most `max_attempts` failed-for-real attempts and `max_rate_limited`
    rate-limited ones, counted per call (on the call's own RetryCallState); without
    `max_rate_limited`, at most `max_attempts` attempts in all."""

    def __init__(self, classify: Classify, max_attempts: int, max_rate_limited: int | None) -> None:
        self.classify, self.max_attempts, self.max_rate_limited = classify, max_attempts, max_rate_limited

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        if self.max_rate_limited is None:  # one bound for every retryable failure
            return state.attempt_number >= self.max_attempts
        counts: dict[RetryKind, int] = state.__dict__.setdefault("_lse_kinds", {})
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return True
        kind = self.classify(exc).kind
        counts[kind] = counts.get(kind, 0) + 1
        if kind is RetryKind.RATE_LIMITED:
            return counts[kind] >= self.max_rate_limited
        return state.attempt_number - counts.get(RetryKind.RATE_LIMITED, 0) >= self.max_attempts


def _wait(classify: Classify, initial: float, cap: float) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_exponential_jitter(initial=initial, max=cap, jitter=initial)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        decision = classify(exc) if exc is not None else None
        if decision is not None and decision.wait_s is not None:
            return min(cap, decision.wait_s)
        return min(cap, backoff(state))

    return wait


def retrying(
    classify: Classify,
    *,
    max_attempts: int,
    max_wait_s: float,
    max_rate_limited: int | None = None,
    initial_wait_s: float = INITIAL_WAIT_S,
    before_sleep: Callable[[tenacity.RetryCallState], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> tenacity.Retrying:
    """The policy for one service: `classify` is that service's classifier (its rules bound)."""
    return tenacity.Retrying(
        stop=_Bounds(classify, max_attempts, max_rate_limited),
        wait=_wait(classify, min(initial_wait_s, max_wait_s), max_wait_s),
        retry=tenacity.retry_if_exception(lambda e: classify(e).retryable),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
