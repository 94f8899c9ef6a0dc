"""One rate budget per (provider endpoint, API key), shared by every run that calls it.

The budget learns the provider's bucket from the `x-ratelimit-*` report on every answer
and books call starts on a `Schedule` (in this process, or in Redis across processes):

- refill rate per dimension = (limit - remaining) / reset, i.e. limit ÷ window, because
  OpenAI's `reset` is the time until the bucket is *full* again; the median of the last
  `RATE_SAMPLES` estimates (headers round) is paced at `HEADROOM` of it;
- tokens per call: a moving average of what calls reported using;
- a reported `remaining` below one burst caps the mirror (other clients on the key
  spend from the same bucket, and this is how we see them);
- a refusal with a wait (`retry-after-ms`, else `retry-after`) holds every start until
  then — never longer — and empties the mirror so the calls after it are paced.

A reset is never waited for: the next token comes after 1/rate, not after the reset.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from lse.evals.rate.schedule import BURST_S, DIMENSIONS, LocalSchedule, RedisSchedule, Schedule
from lse.retry import bucket_report

log = logging.getLogger(__name__)

HEADROOM = 0.95  # pace at this share of the learned refill rate: room for clock and network jitter
RATE_SAMPLES = 16  # refill estimates kept per dimension; their median is the rate
TOKEN_COST_WEIGHT = 0.2  # weight of the latest call in the moving average of tokens per call
RECONFIGURE_CHANGE = 0.02  # a new rate reaches the (shared) schedule when it moved this much
MIN_WAIT_S = 1e-6  # a shorter wait is float noise in the timetable: start now


class RateBudget:
    """The shared brake of one endpoint and key. Thread-safe; cheap to call per attempt."""

    def __init__(self, schedule: Schedule, *, name: str = "") -> None:
        self.name = name
        self.schedule = schedule
        self._lock = threading.Lock()
        self._samples: dict[str, deque[float]] = {d: deque(maxlen=RATE_SAMPLES) for d in DIMENSIONS}
        self.rate: dict[str, float | None] = dict.fromkeys(DIMENSIONS)  # provider refill, units/s
        self._configured: dict[str, float | None] = dict.fromkeys(DIMENSIONS)
        self.tokens_per_call: float = 0.0
        self.holds = 0

    def reserve(self) -> float:
        """Book the next start for one call; seconds to wait for it (0 = now)."""
        delay = self._on_schedule("reserve", self.tokens_per_call)
        return delay if delay > MIN_WAIT_S else 0.0

    def _on_schedule(self, op: str, *args: Any) -> float:
        """Run one schedule operation; a shared schedule that fails (Redis down) is replaced by
        this process's own, with a warning: the run goes on, paced per process."""
        try:
            return getattr(self.schedule, op)(*args) or 0.0
        except Exception as exc:
            if isinstance(self.schedule, LocalSchedule):
                raise
            log.warning("rate budget %s: the shared schedule failed (%s); pacing this process alone", self.name, exc)
            local = LocalSchedule()
            for dim, unit in self._configured.items():
                local.configure(dim, unit)
            self.schedule = local
            return getattr(local, op)(*args) or 0.0

    def observe(
        self,
        headers: Mapping[str, str] | None,
        *,
        tokens: float | None = None,
        refused_wait_s: float | None = None,
    ) -> None:
        """Learn from one answer: its headers, the tokens it used, and a refusal's wait."""
        updates: list[tuple[str, float]] = []
        caps: list[tuple[str, float, float]] = []
        with self._lock:
            if tokens:
                w = TOKEN_COST_WEIGHT if self.tokens_per_call else 1.0
                self.tokens_per_call += w * (float(tokens) - self.tokens_per_call)
            for dim in DIMENSIONS:
                report = bucket_report(headers, dim)
                if report is None:
                    continue
                if report.refill_per_s:
                    self._samples[dim].append(report.refill_per_s)
                    learned = statistics.median(self._samples[dim])
                    self.rate[dim] = learned
                    unit = 1.0 / (HEADROOM * learned)
                    old = self._configured[dim]
                    if old is None or abs(unit - old) > RECONFIGURE_CHANGE * old:
                        self._configured[dim] = unit
                        updates.append((dim, unit))
                cost = 1.0 if dim == "requests" else self.tokens_per_call
                rate = self.rate[dim]
                if report.remaining is not None and rate and cost and report.remaining < rate * BURST_S:
                    caps.append((dim, max(0.0, report.remaining), cost))
            if refused_wait_s is not None:
                self.holds += 1
        for dim, unit in updates:
            self._on_schedule("configure", dim, unit)
        for dim, remaining, cost in caps:
            self._on_schedule("cap", dim, remaining, cost)
        if refused_wait_s is not None:
            self._on_schedule("hold", refused_wait_s)

    def paced_rate(self, dim: str = "requests") -> float | None:
        rate = self.rate[dim]
        return HEADROOM * rate if rate else None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "budget": self.name,
                "shared_through": "redis" if isinstance(self.schedule, RedisSchedule) else "process",
                "provider_rate": round(self.rate["requests"], 3) if self.rate["requests"] else None,
                "rate": round(HEADROOM * self.rate["requests"], 3) if self.rate["requests"] else None,
                "provider_token_rate": round(self.rate["tokens"], 1) if self.rate["tokens"] else None,
                "tokens_per_call": round(self.tokens_per_call, 1),
                "holds": self.holds,
            }


# --- one budget per (endpoint, key) ------------------------------------------------------

_budgets: dict[tuple[str, str], RateBudget] = {}
_budgets_lock = threading.Lock()


def forget_budgets() -> None:
    """Drop every budget this process learned (tests: a new server may reuse an old port)."""
    with _budgets_lock:
        _budgets.clear()


def budget_key(endpoint: str, api_key: str) -> str:
    """A stable name for (endpoint, key) that never carries the key itself."""
    digest = hashlib.sha256(f"{endpoint}\n{api_key}".encode()).hexdigest()[:24]
    return f"lse:rate-budget:{digest}"


def budget_for(endpoint: str, api_key: str, *, redis_url: str | None = None) -> RateBudget:
    """The process's budget for this endpoint and key; its timetable lives in Redis when a
    `redis://` broker is configured, so every process with the same key books from one."""
    key = budget_key(endpoint, api_key)
    shared = bool(redis_url and redis_url.startswith(("redis://", "rediss://", "unix://")))
    with _budgets_lock:
        budget = _budgets.get((key, redis_url or ""))
        if budget is None:
            schedule: Schedule = RedisSchedule(redis_url, key) if shared and redis_url else LocalSchedule()
            budget = RateBudget(schedule, name=endpoint)
            _budgets[(key, redis_url or "")] = budget
        return budget
