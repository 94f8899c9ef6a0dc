"""Faults a test can switch on at runtime, and the arrival-time decision of which apply.

`OpenAIFaults` is a plain mutable dataclass: a test assigns fields on `sandbox.faults` while
the server runs and the next request reads them. Counters named `*_next` are consumed one per
request, in arrival order, so "the next 2 calls fail" means exactly the next two to arrive
(even when they are served concurrently). Everything is off by default.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass
class OpenAIFaults:
    """Injected misbehaviour, read on every request. See docs/sandbox-openai.md."""

    responses_latency_ms: int = 0
    embeddings_latency_ms: int = 0
    # OpenAI's limits on /v1/responses: requests and tokens per minute, each a bucket of the
    # per-minute size, also enforced per `rate_limit_quantum_s` (None or 0: per minute only).
    rate_limit_rpm: float | None = None
    rate_limit_tpm: float | None = None
    rate_limit_quantum_s: float | None = 1.0
    # The next N /v1/responses calls, and each with probability `rate_limit_share`, get 429
    # rate_limit_exceeded carrying this retry-after-ms, remaining 0 and this reset (default: the wait).
    rate_limit_next: int = 0
    rate_limit_share: float = 0.0
    rate_limit_retry_after_ms: int = 1000
    rate_limit_reset_s: float | None = None
    # Every call (responses and embeddings) gets 429 insufficient_quota.
    insufficient_quota: bool = False
    # The next N /v1/responses calls, every Nth one, and each with probability `server_error_share`,
    # fail with `server_error_status` (500 or 503).
    server_error_next: int = 0
    server_error_every: int = 0
    server_error_share: float = 0.0
    server_error_status: int = 500
    # Seed of the draws behind the `*_share` faults (None: a fresh random seed).
    fault_seed: int | None = None
    # The next N /v1/responses calls sleep `hang_s` before answering (to trip client timeouts).
    timeout_next: int = 0
    hang_s: float = 30.0
    # An input (responses or embeddings) containing this text gets 400 invalid_request_error.
    bad_request_marker: str | None = "[[bad-request]]"
    # A /v1/responses call arriving while this many are in flight gets 429 (concurrency).
    max_concurrency: int | None = None
    # The next N /v1/embeddings calls fail with `server_error_status`.
    embeddings_server_error_next: int = 0


@dataclass(frozen=True)
class ResponsesPlan:
    """What the faults decided for one /v1/responses call at its arrival."""

    server_error: bool = False
    hang: bool = False


class FaultCounters:
    """Consumes the `*_next` counters and counts calls for `server_error_every`, atomically.

    The server's event loop and a test thread both touch the same `OpenAIFaults`; the lock
    makes each read-decrement a single step so no request is double-counted.
    """

    def __init__(self, faults: OpenAIFaults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._responses_seen = 0
        self._random = random.Random(faults.fault_seed)
        self._seed = faults.fault_seed

    def _draw(self, share: float) -> bool:
        """True with probability `share` (the lock is held), from the seeded generator."""
        if share <= 0:
            return False
        if self.faults.fault_seed != self._seed:  # a test set a new seed: start its sequence
            self._seed = self.faults.fault_seed
            self._random = random.Random(self._seed)
        return self._random.random() < share

    def _take(self, name: str) -> bool:
        remaining = getattr(self.faults, name)
        if remaining > 0:
            setattr(self.faults, name, remaining - 1)
            return True
        return False

    def take_rate_limit(self) -> bool:
        with self._lock:
            return self._take("rate_limit_next") or self._draw(self.faults.rate_limit_share)

    def plan_responses(self) -> ResponsesPlan:
        """Decide the server-error and hang faults for a call that has been admitted."""
        with self._lock:
            self._responses_seen += 1
            every = self.faults.server_error_every
            periodic = every > 0 and self._responses_seen % every == 0
            server_error = self._take("server_error_next") or periodic or self._draw(self.faults.server_error_share)
            hang = not server_error and self._take("timeout_next")
            return ResponsesPlan(server_error=server_error, hang=hang)

    def take_embeddings_server_error(self) -> bool:
        with self._lock:
            return self._take("embeddings_server_error_next")
