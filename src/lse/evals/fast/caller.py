"""One provider call made safely: rate-adapted, retried by the one policy, stoppable, counted.

Every attempt goes through the run's `RateAdapter` (so a 429 here slows every worker) and
the tenacity policy from `lse.evals.retry` (so the classifier alone decides what is
retried). A stop-the-run decision (exhausted quota, bad key) sets the run's `StopSignal`;
other workers see it before their next attempt and give up without calling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lse.errors import LseError
from lse.evals.rate_adapter import RateAdapter
from lse.evals.retry import RATE_LIMIT, RetryDecision, classify, retrying
from lse.providers.errors import ProviderCallError
from lse.providers.usage import Usage

T = TypeVar("T")


class RunStopped(LseError):
    """Raised inside a worker when the run was stopped before this attempt started."""

    code = "run_stopped"


class StopSignal:
    """Shared by a run's workers: the first stop decision wins and is kept for the report."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.decision: RetryDecision | None = None
        self.message: str | None = None
        self._lock = threading.Lock()

    def stop(self, decision: RetryDecision, message: str) -> None:
        with self._lock:
            if self.decision is None:
                self.decision = decision
                self.message = message
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()


@dataclass
class CallOutcome(Generic[T]):
    value: T | None
    error: BaseException | None
    decision: RetryDecision | None
    attempts: int
    failed_usage: Usage  # usage reported by attempts that failed (still billed)


class Caller:
    def __init__(
        self,
        adapter: RateAdapter,
        stop: StopSignal,
        *,
        max_attempts: int,
        max_wait_s: float,
        initial_wait_s: float = 0.25,
    ):
        self.adapter = adapter
        self.stop = stop
        self.max_attempts = max_attempts
        self.max_wait_s = max_wait_s
        self.initial_wait_s = initial_wait_s
        self.attempts_made = 0
        self._count_lock = threading.Lock()

    def call(self, fn: Callable[[], T], *, headers_of: Callable[[T], dict] | None = None) -> CallOutcome[T]:
        attempts = 0
        failed_usage = Usage()
        last: list[RetryDecision | None] = [None]

        def attempt() -> T:
            nonlocal attempts
            if self.stop.is_set():
                raise RunStopped(self.stop.message or "the run was stopped")
            prev, rate = last[0], self.adapter.rate
            priority = bool(
                prev is not None
                and prev.kind == RATE_LIMIT
                and prev.wait_s is not None
                and rate
                and prev.wait_s <= 0.5 / rate
            )
            start = self.adapter.acquire(self.stop.event, priority=priority)
            if start is None:
                raise RunStopped(self.stop.message or "the run was stopped")
            attempts += 1
            with self._count_lock:
                self.attempts_made += 1
            # the slot is released in `finally`, whatever happens while judging the failure:
            # a slot that leaks shrinks the run's window for good and can hang it
            released: dict = {}
            try:
                value = fn()
            except ProviderCallError as exc:
                released["headers"] = exc.headers
                decision = classify(exc)
                last[0] = decision
                released.update(rate_limited=decision.kind == RATE_LIMIT, wait_s=decision.wait_s)
                if exc.usage:
                    failed_usage.add(Usage.from_api(exc.usage))
                if decision.stops_run:
                    self.stop.stop(decision, str(exc))
                raise
            else:
                released["headers"] = headers_of(value) if headers_of else None
                return value
            finally:
                self.adapter.release(start, **released)

        policy = retrying(
            max_attempts=self.max_attempts,
            max_wait_s=self.max_wait_s,
            initial_wait_s=self.initial_wait_s,
            sleep=self.stop.event.wait,
        )
        try:
            value = policy(attempt)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            return CallOutcome(None, exc, classify(exc), attempts, failed_usage)
        return CallOutcome(value, None, None, attempts, failed_usage)
