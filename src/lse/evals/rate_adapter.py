"""One run's shared brake: a concurrency window (AIMD) and a request-rate pacer.

Every worker of a run acquires a slot here before each provider call and reports how
the call went. A 429 seen by one worker slows them all:

- the provider's retry-after (or an x-ratelimit-remaining-* of 0 with its reset-*)
  pauses every worker until then;
- the x-ratelimit-{limit,remaining,reset}-requests headers of every answer give the
  provider's refill rate, (limit - remaining) / reset; the adapter keeps the lowest
  recent estimate (headers round, so the lowest is the truest);
- once per congestion epoch (429s of requests started before the last cut are ignored)
  the pacer's rate becomes 93% of that refill rate (or, without headers, 93% of the
  throughput the provider actually accepted over the last ~2 s), and the concurrency
  window is cut multiplicatively to 3/4 of what was in flight;
- a 429 while already pacing at 93% of a known refill rate is arrival jitter, not
  overload: no cut, and the refused call is retried after the provider's (milliseconds)
  wait ahead of the pacer's queue, so its slot is not lost;
- every accepted call grows the window by 1/window (additive increase, +1 per window) and
  the rate by ~1% per second (never above 93% of a known refill rate), so the run probes
  back up.

A large run therefore converges to the provider's limit instead of storming it. The
pacer starts unpaced and switches on at the first 429, or when the headers say the
request budget is nearly spent. See docs/fast-evaluation.md for the reasoning.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from lse.retry_after import duration_s


def _requests_exhausted(headers: Mapping[str, str] | None) -> bool:
    """The 429 is about the request rate (bucket empty), not concurrency or tokens."""
    if not headers:
        return False
    h = {k.lower(): v for k, v in headers.items()}
    try:
        return float(h.get("x-ratelimit-remaining-requests", "nan")) <= 0
    except ValueError:
        return False


class RateAdapter:
    """Thread-safe; `acquire()` before a call, then `release(...)` with how it went."""

    HEADROOM_START = 0.93  # pace at this share of the provider's refill rate ...
    HEADROOM_MIN, HEADROOM_MAX = 0.75, 0.97  # ... tuned between these by the jitter 429s seen

    def __init__(
        self,
        max_concurrency: int,
        *,
        min_concurrency: int = 1,
        max_pause_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.max_concurrency = max(1, max_concurrency)
        self.min_concurrency = max(1, min(min_concurrency, self.max_concurrency))
        self.window = float(self.max_concurrency)
        self.rate: float | None = None  # requests/s; None until the first 429
        self.max_pause_s = max_pause_s
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limited = 0
        self.cuts = 0
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._last_cut = float("-inf")
        self._first_start: float | None = None
        self._starts: deque[float] = deque()
        self._rejected: deque[float] = deque()
        self._refill_samples: deque[float] = deque(maxlen=32)
        self.headroom = self.HEADROOM_START
        self._jitter_window: deque[bool] = deque(maxlen=100)  # recent paced calls: refused by jitter?
        self._since_tune = 0
        self.provider_rate: float | None = None  # requests/s the provider refills, from headers

    # --- slots ---------------------------------------------------------------------------
    def acquire(self, stop: threading.Event | None = None, *, priority: bool = False) -> float | None:
        """Block until a call may start; returns its start time (None if `stop` was set).

        `priority` skips the pacer's queue (not the window or a pause): for the retry of a
        call refused by a few milliseconds of jitter, whose token is free right now — sending
        it at once keeps the slot instead of losing it to the back of the queue.
        """
        with self._cond:
            while True:
                if stop is not None and stop.is_set():
                    return None
                now = self._clock()
                if now < self._paused_until:
                    self._cond.wait(min(self._paused_until - now, 0.5))
                    continue
                if self.in_flight >= max(self.min_concurrency, int(self.window)):
                    self._cond.wait(0.5)
                    continue
                slot = now
                if self.rate and not priority:
                    slot = max(now, self._next_slot)
                    self._next_slot = slot + 1.0 / self.rate
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                break
        if slot > now:
            self._sleep(slot - now)
        start = self._clock()
        with self._cond:
            if self._first_start is None:
                self._first_start = start
            self._starts.append(start)
            self._trim(start)
        return start

    def release(
        self,
        start: float,
        *,
        rate_limited: bool = False,
        wait_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Report a finished call: accepted (any non-429 outcome) or rate limited."""
        with self._cond:
            self.in_flight -= 1
            now = self._clock()
            was_pacing = self.rate is not None
            self._learn_headers(headers, now)
            if rate_limited:
                self.rate_limited += 1
                self._rejected.append(start)
                if wait_s:
                    self._pause(now + min(wait_s, self.max_pause_s))
                jitter = (
                    _requests_exhausted(headers)
                    and was_pacing
                    and self.provider_rate is not None
                    and self.rate <= self.headroom * self.provider_rate * 1.001
                )
                if jitter:
                    self._tune_headroom(True)
                elif start >= self._last_cut:
                    self._cut(now)
            else:
                if self.rate is not None and self.provider_rate is not None:
                    self._tune_headroom(False)
                self.window = min(float(self.max_concurrency), self.window + 1.0 / max(self.window, 1.0))
                if self.rate:
                    self.rate *= 1.0 + 0.01 / max(self.rate, 1.0)
                    if self.provider_rate:
                        self.rate = min(self.rate, self.headroom * self.provider_rate)
            self._cond.notify_all()

    # --- internals -----------------------------------------------------------------------
    def _tune_headroom(self, refused: bool) -> None:
        """Keep jitter refusals near 2% of paced calls: more → pace lower, fewer → closer."""
        self._jitter_window.append(refused)
        self._since_tune += 1
        if len(self._jitter_window) < 50 or self._since_tune < 25:
            return
        self._since_tune = 0
        share = sum(self._jitter_window) / len(self._jitter_window)
        if share > 0.04:
            self.headroom = max(self.HEADROOM_MIN, self.headroom * 0.98)
        elif share < 0.01:
            self.headroom = min(self.HEADROOM_MAX, self.headroom * 1.005)
        else:
            return
        if self.provider_rate:
            self.rate = self.headroom * self.provider_rate

    def _cut(self, now: float) -> None:
        self.cuts += 1
        self._last_cut = now
        span = 2.0
        elapsed = now - (self._first_start if self._first_start is not None else now)
        w = min(span, max(1.0, elapsed))
        started = sum(1 for t in self._starts if t >= now - w)
        rejected = sum(1 for t in self._rejected if t >= now - w)
        accepted = max(0, started - rejected) / w
        if self.provider_rate:
            target = self.headroom * self.provider_rate
        elif accepted > 0:
            target = self.headroom * accepted
            target = min(self.rate, target) if self.rate else target
        else:
            target = (self.rate or 2.0) * 0.5
        self.rate = max(0.2, target)
        self.window = max(float(self.min_concurrency), min(self.window, float(self.in_flight + 1)) * 0.75)
        self._next_slot = max(self._next_slot, now)

    def _pause(self, until: float) -> None:
        if until > self._paused_until:
            self._paused_until = until
            self._next_slot = max(self._next_slot, until)

    def _learn_headers(self, headers: Mapping[str, str] | None, now: float) -> None:
        if not headers:
            return
        h = {k.lower(): v for k, v in headers.items()}
        self._learn_refill(h)
        for kind in ("requests", "tokens"):
            remaining = h.get(f"x-ratelimit-remaining-{kind}")
            if remaining is None:
                continue
            try:
                left = float(remaining)
            except ValueError:
                continue
            if left <= 0:
                reset = duration_s(h.get(f"x-ratelimit-reset-{kind}"))
                if reset:
                    self._pause(now + min(reset, self.max_pause_s))

    def _learn_refill(self, h: Mapping[str, str]) -> None:
        try:
            limit = float(h["x-ratelimit-limit-requests"])
            remaining = float(h["x-ratelimit-remaining-requests"])
        except (KeyError, ValueError):
            return
        reset = duration_s(h.get("x-ratelimit-reset-requests"))
        if not reset or limit <= remaining:
            return
        self._refill_samples.append((limit - remaining) / reset)
        self.provider_rate = min(self._refill_samples)
        if self.rate is None and remaining <= max(1.0, 0.05 * limit):
            self.rate = self.headroom * self.provider_rate  # budget nearly spent: start pacing now
        elif self.rate is not None:
            self.rate = min(self.rate, self.headroom * self.provider_rate)

    def _trim(self, now: float) -> None:
        horizon = now - 4.0
        while self._starts and self._starts[0] < horizon:
            self._starts.popleft()
        while self._rejected and self._rejected[0] < horizon:
            self._rejected.popleft()

    def snapshot(self) -> dict[str, float | int | None]:
        with self._cond:
            return {
                "window": round(self.window, 2),
                "rate": round(self.rate, 2) if self.rate else None,
                "provider_rate": round(self.provider_rate, 2) if self.provider_rate else None,
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "rate_limited": self.rate_limited,
                "cuts": self.cuts,
                "headroom": round(self.headroom, 3),
            }
