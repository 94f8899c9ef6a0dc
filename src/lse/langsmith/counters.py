"""Every request, retry and error the LangSmith client made, counted once each; and every
endpoint that answered with a `Deprecation` or `Sunset` header, with what the headers said."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestCounters:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    errors: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    # "POST /runs/query" -> {"deprecation": ..., "sunset": ..., "responses": n}
    deprecations: dict[str, dict[str, Any]] = field(default_factory=dict)
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

    def deprecated(self, endpoint: str, deprecation: str | None, sunset: str | None) -> None:
        """A response to `endpoint` ("METHOD /path") carried Deprecation and/or Sunset."""
        with self._lock:
            seen = self.deprecations.get(endpoint)
            responses = seen["responses"] if seen else 0
            self.deprecations[endpoint] = {"deprecation": deprecation, "sunset": sunset, "responses": responses + 1}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "rate_limited": self.rate_limited,
                "errors": self.errors,
                "by_endpoint": dict(self.by_endpoint),
                "deprecations": {k: dict(v) for k, v in self.deprecations.items()},
            }

    def minus(self, earlier: dict[str, Any]) -> dict[str, Any]:
        """What happened since `earlier` (a snapshot): counts, and the deprecated endpoints
        that answered again in between (with the headers they last sent)."""
        now = self.snapshot()
        keys = set(now["by_endpoint"]) | set(earlier["by_endpoint"])
        before = earlier.get("deprecations", {})
        deprecations = {}
        for endpoint, seen in now["deprecations"].items():
            more = seen["responses"] - before.get(endpoint, {}).get("responses", 0)
            if more > 0:
                deprecations[endpoint] = {**seen, "responses": more}
        return {
            "requests": now["requests"] - earlier["requests"],
            "retries": now["retries"] - earlier["retries"],
            "rate_limited": now["rate_limited"] - earlier["rate_limited"],
            "errors": now["errors"] - earlier["errors"],
            "by_endpoint": {k: now["by_endpoint"].get(k, 0) - earlier["by_endpoint"].get(k, 0) for k in keys},
            "deprecations": deprecations,
        }
