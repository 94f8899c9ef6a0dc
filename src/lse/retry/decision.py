"""What a caller should do about one failed remote call: the classifier's only output."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RetryKind(StrEnum):
    """The decision, from most to least hopeful."""

    OK = "ok"  # not a failure (a 2xx/3xx status): nothing to retry
    RATE_LIMITED = "rate_limited"  # the service asked us to slow down: retry after its wait
    TRANSIENT = "transient"  # 408, 5xx, timeouts, resets: retry with backoff
    PERMANENT = "permanent"  # this request will never succeed: fail it now
    STOP_RUN = "stop_run"  # nothing will succeed (bad key, exhausted quota): stop every worker


@dataclass(frozen=True)
class RetryDecision:
    kind: RetryKind
    reason: str = ""
    status: int | None = None
    code: str | None = None
    wait_s: float | None = None  # the service's requested wait, when it said one we can read

    @property
    def retryable(self) -> bool:
        return self.kind in (RetryKind.RATE_LIMITED, RetryKind.TRANSIENT)

    @property
    def stops_run(self) -> bool:
        return self.kind is RetryKind.STOP_RUN
