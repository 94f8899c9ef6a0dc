"""Every request, retry and error the LangSmith client made, counted once each."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class RequestCounters:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    errors: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def request(self, endpoint: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1

    def retry(self) -> None:
        with self._lock:
            self.retries += 1

    def rate_limit(self) -> None:
        with self._lock:
            self.rate_limited += 1

    def error(self) -> None:
        with self._lock:
            self.errors += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "rate_limited": self.rate_limited,
                "errors": self.errors,
                "by_endpoint": dict(self.by_endpoint),
            }

    def minus(self, earlier: dict) -> dict:
        now = self.snapshot()
        keys = set(now["by_endpoint"]) | set(earlier["by_endpoint"])
        return {
            "requests": now["requests"] - earlier["requests"],
            "retries": now["retries"] - earlier["retries"],
            "rate_limited": now["rate_limited"] - earlier["rate_limited"],
            "errors": now["errors"] - earlier["errors"],
            "by_endpoint": {k: now["by_endpoint"].get(k, 0) - earlier["by_endpoint"].get(k, 0) for k in keys},
        }
