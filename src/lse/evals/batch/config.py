"""Batch mode's knobs in one value, built from settings (or by a test, directly)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lse.settings import Settings

OPENAI_MAX_REQUESTS = 50_000
OPENAI_MAX_BYTES = 200_000_000


@dataclass(frozen=True)
class BatchLimits:
    """What one request file may hold: requests, bytes, and estimated input tokens."""

    max_requests: int = OPENAI_MAX_REQUESTS
    max_bytes: int = 190_000_000  # 5% under 200 MB, whichever way the provider counts a MB
    max_tokens: int | None = None
    # A smaller file target after the provider's enqueued-token limit refused a batch: files
    # are closed before passing it, but a line over it still goes (alone), unlike `max_tokens`.
    split_tokens: int | None = None


@dataclass(frozen=True)
class RemoteRetry:
    """Attempts of one remote call (upload, create, download) for transient failures."""

    max_attempts: int = 5
    max_wait_s: float = 60.0
    initial_wait_s: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


@dataclass(frozen=True)
class BatchConfig:
    limits: BatchLimits = BatchLimits()
    poll_s: float = 60.0
    max_rounds: int = 3
    lease_s: float = 300.0
    deadline_grace_s: float = 6 * 3600.0
    # A lost create is looked for in `batches.list`; a miss this soon after the attempt is
    # not yet proof that nothing was created, so the create waits for a later pass.
    recover_grace_s: float = 30.0
    # How far before our own attempt time a provider's `created_at` may fall (clock skew).
    clock_skew_s: float = 600.0
    retry: RemoteRetry = RemoteRetry()
    # How long the items of a batch refused for the enqueued-token limit wait before going again.
    defer_s: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BatchConfig:
        return cls(
            limits=BatchLimits(
                max_requests=settings.eval_batch_max_requests,
                max_bytes=settings.eval_batch_max_bytes,
                max_tokens=settings.eval_batch_max_enqueued_tokens,
            ),
            poll_s=settings.eval_batch_poll_s,
            max_rounds=settings.eval_batch_max_rounds,
            lease_s=settings.eval_batch_lease_s,
            deadline_grace_s=settings.eval_batch_deadline_grace_s,
            defer_s=10 * settings.eval_batch_poll_s,
            retry=RemoteRetry(max_attempts=settings.eval_fast_max_attempts, max_wait_s=settings.retry_max_wait_s),
        )
