"""A run's brake: its own concurrency window in front of the key's shared rate budget.

The control loop, in one paragraph. Before each attempt a worker takes a slot in its run's
concurrency window, then books a start time from the budget of its (endpoint, key) and
sleeps until then. The budget mirrors the provider's token bucket: every answer's
`x-ratelimit-{limit,remaining,reset}-*` headers give the refill rate (limit ÷ window,
since `reset` is the time until the bucket is full) and what is left; while the mirror
holds tokens, calls start at once (at most one second's worth back to back), and once it
is empty starts are spaced at `HEADROOM` × the refill rate. A 429 sends back only the
call that got it, to be retried after `retry-after-ms` (else `retry-after`, else
backoff); the budget holds every start for exactly that long — never until a reset — and
marks the mirror empty, so the calls after it are paced instead of bursting. A 429 the
headers do not explain (the request and token buckets both report room: a concurrency
or burst limit) also cuts the run's window to `WINDOW_CUT` of the calls in flight, once
per congestion epoch; every accepted call grows it back by 1/window.

Why, and the figures: docs/fast-evaluation.md ("Rate budget").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lse.evals.rate.budget import RateBudget
from lse.evals.rate.schedule import LocalSchedule
from lse.retry import bucket_report

WINDOW_CUT = 0.75  # multiplicative decrease of the window on an unexplained 429
WINDOW_WAIT_S = 0.5  # how often a worker waiting for a window slot rechecks the stop signal


def explained_by_bucket(headers: Mapping[str, str] | None, tokens_per_call: float) -> bool:
    """The 429's own report shows an empty request bucket (or too few tokens for a call)."""
    requests = bucket_report(headers, "requests")
    if requests is not None and requests.remaining is not None and requests.remaining < 1:
        return True
    tokens = bucket_report(headers, "tokens")
    return bool(tokens is not None and tokens.remaining is not None and tokens.remaining < max(1.0, tokens_per_call))


@dataclass(frozen=True)
class Slot:
    start: float  # when the call was let go (the adapter's clock)


class RateAdapter:
    """Thread-safe; `acquire()` before an attempt, then `release(slot, ...)` with how it went."""

    def __init__(
        self,
        max_concurrency: int,
        budget: RateBudget | None = None,
        *,
        min_concurrency: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget or RateBudget(LocalSchedule(clock))  # a private budget when none is shared
        self.max_concurrency = max(1, max_concurrency)
        self.min_concurrency = max(1, min(min_concurrency, self.max_concurrency))
        self.window = float(self.max_concurrency)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limited = 0
        self.cuts = 0
        self._clock = clock
        self._cond = threading.Condition()
        self._last_cut = float("-inf")

    def acquire(self, stop: threading.Event | None = None) -> Slot | None:
        """Block until an attempt may start; None if `stop` was set first."""
        with self._cond:
            while self.in_flight >= max(self.min_concurrency, int(self.window)):
                if stop is not None and stop.is_set():
                    return None
                self._cond.wait(WINDOW_WAIT_S)
            if stop is not None and stop.is_set():
                return None
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            delay = self.budget.reserve()
        except BaseException:
            self._give_back()
            raise
        if delay > 0 and stop is None:
            time.sleep(delay)
        elif delay > 0 and stop is not None and stop.wait(delay):
            self._give_back()
            return None
        return Slot(self._clock())

    def _give_back(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def release(
        self,
        slot: Slot,
        *,
        rate_limited: bool = False,
        wait_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        tokens: float | None = None,
    ) -> None:
        """Report a finished attempt: accepted (any non-429 outcome) or rate limited."""
        self.budget.observe(headers, tokens=tokens, refused_wait_s=wait_s if rate_limited else None)
        with self._cond:
            self.in_flight -= 1
            if rate_limited:
                self.rate_limited += 1
                if not explained_by_bucket(headers, self.budget.tokens_per_call) and slot.start >= self._last_cut:
                    self.cuts += 1
                    self._last_cut = self._clock()
                    self.window = max(float(self.min_concurrency), min(self.window, self.in_flight + 1.0) * WINDOW_CUT)
            else:
                self.window = min(float(self.max_concurrency), self.window + 1.0 / max(self.window, 1.0))
            self._cond.notify_all()

    @property
    def rate(self) -> float | None:
        """Requests per second the shared budget paces at (None until the provider said)."""
        return self.budget.paced_rate()

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            own = {
                "window": round(self.window, 2),
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "rate_limited": self.rate_limited,
                "cuts": self.cuts,
            }
        return {**own, **self.budget.snapshot()}
