"""A token-bucket limiter and OpenAI-style rate-limit header values.

OpenAI reports limits as `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; the reset is
the time until the bucket is full again, written like "1s", "120ms" or "6m0s". The bucket is
the real thing (not a counter reset per second), so a client that paces itself at the rate
never sees a 429 and one that bursts is told exactly how long to wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Acquisition:
    """Outcome of one acquire: granted, or refused with the wait until enough tokens exist."""

    granted: bool
    wait_s: float


class TokenBucket:
    """`capacity` tokens, refilled continuously at `rate` tokens per second. Thread-safe."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self._level = float(capacity)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_acquire(self, amount: float = 1.0) -> Acquisition:
        """Take `amount` tokens if available; otherwise take nothing and report the wait."""
        with self._lock:
            self._refill()
            if self._level >= amount:
                self._level -= amount
                return Acquisition(True, 0.0)
            return Acquisition(False, (amount - self._level) / self.rate)

    def consume(self, amount: float) -> None:
        """Take tokens without refusing (the level floors at zero): for limits that are
        reported but not enforced."""
        with self._lock:
            self._refill()
            self._level = max(0.0, self._level - amount)

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` tokens are there (0 when they are now); takes nothing."""
        with self._lock:
            self._refill()
            return max(0.0, (amount - self._level) / self.rate)

    def refund(self, amount: float) -> None:
        """Give tokens back (a call that used fewer than it was charged), up to the capacity."""
        with self._lock:
            self._refill()
            self._level = min(self.capacity, self._level + amount)

    def remaining(self) -> int:
        with self._lock:
            self._refill()
            return int(self._level)

    def reset_after_s(self) -> float:
        """Seconds until the bucket is full again."""
        with self._lock:
            self._refill()
            return (self.capacity - self._level) / self.rate


def format_reset(seconds: float) -> str:
    """OpenAI's duration style: "0s", "120ms", "1.5s", "6m0s"."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{round(rest):d}s"
