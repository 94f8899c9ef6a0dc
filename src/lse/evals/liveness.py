"""How a run shows it is alive, and when it counts as abandoned.

The worker executing a run writes `heartbeat_at` every `LSE_EVAL_HEARTBEAT_S` (default
HEARTBEAT_S); a `processing` run whose heartbeat is older than a stale-after threshold
(`LSE_EVAL_STALE_AFTER_S`, default STALE_AFTER_S) has no live worker and may be claimed
again. The threshold must outlast a few missed beats (a slow database, a long pause):
below three heartbeats a second worker could claim a run that is still running. This
module imports nothing heavy, so the CLI can use the bounds in its option definitions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lse.errors import UsageError

HEARTBEAT_S = 5.0
STALE_AFTER_S = 60.0
BEATS_BEFORE_STALE = 3
MIN_STALE_AFTER_S = BEATS_BEFORE_STALE * HEARTBEAT_S


def check_stale_after(stale_after_s: float, heartbeat_s: float = HEARTBEAT_S) -> float:
    """`stale_after_s` if it is safe; else a one-line UsageError saying the minimum."""
    minimum = BEATS_BEFORE_STALE * heartbeat_s
    if not stale_after_s >= minimum * (1 - 1e-9):  # `not >=` also refuses NaN; float slack for 3 x 0.2
        raise UsageError(
            f"stale-after must be at least {minimum:g} s (three heartbeats of {heartbeat_s:g} s), "
            f"got {stale_after_s:g}: a shorter wait could hand a live run to a second worker"
        )
    return stale_after_s


def takeover_at(heartbeat_at: datetime | None, stale_after_s: float, now: datetime) -> datetime:
    """When a processing run with this last heartbeat may be claimed by another worker."""
    return now if heartbeat_at is None else heartbeat_at + timedelta(seconds=stale_after_s)
