"""What crossed the wire, for tests that assert on requests rather than on function calls."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Counters:
    """Thread-safe request tallies: the server thread writes, the test thread reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.by_kind: Counter[str] = Counter()
        self.rate_limited_sent = 0
        self.errors_sent = 0
        self.resets_sent = 0
        self.unauthorized_sent = 0
        self.requests: list[tuple[str, str, Any]] = []

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_kind = Counter()
            self.rate_limited_sent = 0
            self.errors_sent = 0
            self.resets_sent = 0
            self.unauthorized_sent = 0
            self.requests = []

    def record(self, method: str, path: str, kind: str, summary: Any) -> None:
        with self._lock:
            self.total += 1
            self.by_kind[kind] += 1
            self.requests.append((method, path, summary))

    def bump(self, name: str) -> None:
        """Add one to `rate_limited_sent`, `errors_sent`, `resets_sent` or `unauthorized_sent`."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def kind(self, kind: str) -> int:
        with self._lock:
            return self.by_kind[kind]

    def of_kind(self, kind_path_part: str) -> list[tuple[str, str, Any]]:
        """Requests whose path contains `kind_path_part` (e.g. "/feedback")."""
        with self._lock:
            return [r for r in self.requests if kind_path_part in r[1]]
