"""One provider call made safely: paced by the rate adapter, retried by the one policy,
stoppable, counted.

Every attempt takes a slot from the run's `RateAdapter` (whose budget is shared by every
run on the same endpoint and key) and reports back how it went; the tenacity policy from
`lse.retry`, judged by OpenAI's rules, alone decides what is retried. A stop-the-run
decision (exhausted quota, bad key) sets the run's `StopSignal`; other workers see it
before their next attempt and give up without calling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from lse.errors import LseError
from lse.evals.rate import RateAdapter
from lse.providers.errors import ProviderCallError
from lse.providers.retry_rules import classify
from lse.providers.usage import Usage
from lse.retry import RetryDecision, RetryKind, retrying

T = TypeVar("T")


class RunStopped(LseError):
    """Raised inside a worker when the run was stopped before this attempt started."""

    code = "run_stopped"


CANCELLED_BY_USER = "cancelled by the user"


class StopSignal:
    """Shared by a run's workers: the first stop decision wins and is kept for the report.
    A user's cancel stops the run the same way, with `cancelled` set and no decision."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.decision: RetryDecision | None = None
        self.message: str | None = None
        self.cancelled = False
        self._lock = threading.Lock()

    def cancel(self) -> None:
        with self._lock:
            if self.decision is None and not self.cancelled:
                self.cancelled = True
                self.message = CANCELLED_BY_USER
        self.event.set()

    def stop(self, decision: RetryDecision, message: str) -> None:
        with self._lock:
            if self.decision is None and not self.cancelled:
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
    failed_usage: Usage = field(default_factory=Usage)  # usage reported by attempts that failed (still billed)


class Caller:
    def __init__(
        self,
        adapter: RateAdapter,
        stop: StopSignal,
        *,
        max_attempts: int,
        max_wait_s: float,
        max_rate_limited: int | None = None,
        initial_wait_s: float = 0.25,
    ):
        self.adapter = adapter
        self.stop = stop
        self.max_attempts = max_attempts
        self.max_rate_limited = max_rate_limited
        self.max_wait_s = max_wait_s
        self.initial_wait_s = initial_wait_s
        self.attempts_made = 0
        self._count_lock = threading.Lock()

    def call(
        self,
        fn: Callable[[], T],
        *,
        headers_of: Callable[[T], dict] | None = None,
        tokens_of: Callable[[T], float | None] | None = None,
    ) -> CallOutcome[T]:
        attempts = 0
        failed_usage = Usage()

        def attempt() -> T:
            nonlocal attempts
            if self.stop.is_set():
                raise RunStopped(self.stop.message or "the run was stopped")
            slot = self.adapter.acquire(self.stop.event)
            if slot is None:
                raise RunStopped(self.stop.message or "the run was stopped")
            attempts += 1
            with self._count_lock:
                self.attempts_made += 1
            # the slot is released in `finally`, whatever happens while judging the failure:
            # a slot that leaks shrinks the run's window for good and can hang it
            report: dict[str, Any] = {}
            try:
                value = fn()
            except ProviderCallError as exc:
                decision = classify(exc)
                limited = decision.kind is RetryKind.RATE_LIMITED
                report.update(headers=exc.headers, rate_limited=limited, wait_s=decision.wait_s)
                if exc.usage:
                    failed_usage.add(Usage.from_api(exc.usage))
                if decision.stops_run:
                    self.stop.stop(decision, str(exc))
                raise
            else:
                report["headers"] = headers_of(value) if headers_of else None
                report["tokens"] = tokens_of(value) if tokens_of else None
                return value
            finally:
                self.adapter.release(slot, **report)

        policy = retrying(
            classify,
            max_attempts=self.max_attempts,
            max_rate_limited=self.max_rate_limited,
            max_wait_s=self.max_wait_s,
            initial_wait_s=self.initial_wait_s,
            sleep=self.stop.event.wait,
        )
        try:
            value = policy(attempt)
        except Exception as exc:  # noqa: BLE001 -- every failure becomes the item's outcome, with its reason
            return CallOutcome(None, exc, classify(exc), attempts, failed_usage)
        return CallOutcome(value, None, None, attempts, failed_usage)
