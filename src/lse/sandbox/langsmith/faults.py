"""Faults the sandbox injects, decided per request.

`Faults` is plain configuration that tests flip at runtime (`sb.faults.rate_limit_every = 3`);
`FaultInjector` holds the request sequence the "every Nth" rules count against, so the
configuration itself stays a simple dataclass.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum


@dataclass
class Faults:
    """All off by default. `only_kinds` limits the every-Nth faults, the latency and the
    connection resets to requests of those kinds ("info", "sessions", "runs_query",
    "runs_get", "feedback", "other"); the `feedback_*` faults always target /feedback."""

    latency_ms: int = 0
    rate_limit_every: int = 0
    retry_after_s: float = 1.0
    rate_limit_html: bool = False
    server_error_every: int = 0
    server_error_status: int = 503
    feedback_status: int | None = None
    feedback_fail_first: int = 0
    reset_every: int = 0
    only_kinds: set[str] | None = None


class Action(Enum):
    PASS = "pass"
    RESET = "reset"
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    FEEDBACK_STATUS = "feedback_status"
    FEEDBACK_FAIL_FIRST = "feedback_fail_first"


@dataclass(frozen=True)
class Decision:
    action: Action
    latency_s: float = 0.0
    status: int = 200


class FaultInjector:
    """Turns the current `Faults` and the request sequence into one decision per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._eligible_seen = 0
        self._feedback_seen = 0

    def reset(self) -> None:
        """Start counting "every Nth" and "first N" afresh (e.g. after new faults are set)."""
        with self._lock:
            self._eligible_seen = 0
            self._feedback_seen = 0

    def decide(self, faults: Faults, kind: str) -> Decision:
        eligible = faults.only_kinds is None or kind in faults.only_kinds
        with self._lock:
            if eligible:
                self._eligible_seen += 1
            n = self._eligible_seen
            if kind == "feedback":
                self._feedback_seen += 1
            nf = self._feedback_seen
        latency = faults.latency_ms / 1000.0 if eligible else 0.0
        if eligible and faults.reset_every and n % faults.reset_every == 0:
            return Decision(Action.RESET, latency)
        if eligible and faults.rate_limit_every and n % faults.rate_limit_every == 0:
            return Decision(Action.RATE_LIMIT, latency, 429)
        if eligible and faults.server_error_every and n % faults.server_error_every == 0:
            return Decision(Action.SERVER_ERROR, latency, faults.server_error_status)
        if kind == "feedback" and faults.feedback_status is not None:
            return Decision(Action.FEEDBACK_STATUS, latency, faults.feedback_status)
        if kind == "feedback" and nf <= faults.feedback_fail_first:
            return Decision(Action.FEEDBACK_FAIL_FIRST, latency, 500)
        return Decision(Action.PASS, latency)
