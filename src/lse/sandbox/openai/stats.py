"""What crossed the wire, counted exactly, readable from the test thread while serving.

Tests assert on these figures (how many calls, which inputs, how big each embeddings batch
was, how many /v1/responses calls were served at once), so every update and every read takes
one lock; reads return copies.
"""

from __future__ import annotations

import threading
from collections import Counter


class SandboxStats:
    """Counters for one sandbox; `reset()` starts a fresh measurement window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._responses_inputs: list[str] = []
        self._responses_bodies: list[dict] = []
        self._embeddings_batches: list[int] = []
        self._status: Counter[int] = Counter()
        self._in_flight = 0
        self._peak = 0

    # --- updates (called by the server) ---

    def count_request(self, endpoint: str) -> None:
        with self._lock:
            self._requests[endpoint] += 1

    def record_response_input(self, text: str) -> None:
        with self._lock:
            self._responses_inputs.append(text)

    def record_response_body(self, body: dict) -> None:
        with self._lock:
            self._responses_bodies.append(dict(body))

    def record_embeddings_batch(self, size: int) -> None:
        with self._lock:
            self._embeddings_batches.append(size)

    def record_status(self, status: int) -> None:
        with self._lock:
            self._status[status] += 1

    def try_enter(self, limit: int | None) -> bool:
        """Admit one /v1/responses call unless `limit` calls are already in flight.

        Check and increment happen under one lock, so the peak is exact and the limit is never
        exceeded even by simultaneous arrivals.
        """
        with self._lock:
            if limit is not None and self._in_flight >= limit:
                return False
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    # --- reads (called by tests) ---

    @property
    def requests_by_endpoint(self) -> dict[str, int]:
        with self._lock:
            return dict(self._requests)

    @property
    def responses_inputs(self) -> list[str]:
        with self._lock:
            return list(self._responses_inputs)

    @property
    def responses_bodies(self) -> list[dict]:
        """Every /v1/responses body that passed validation, as received (top level copied)."""
        with self._lock:
            return [dict(b) for b in self._responses_bodies]

    @property
    def embeddings_batches(self) -> list[int]:
        with self._lock:
            return list(self._embeddings_batches)

    @property
    def status_counts(self) -> dict[int, int]:
        with self._lock:
            return dict(self._status)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        with self._lock:
            return self._peak

    def reset(self) -> None:
        """Clear every figure; the peak restarts from the calls still in flight."""
        with self._lock:
            self._requests.clear()
            self._responses_inputs.clear()
            self._responses_bodies.clear()
            self._embeddings_batches.clear()
            self._status.clear()
            self._peak = self._in_flight
