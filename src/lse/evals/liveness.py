"""How a fast run shows it is alive, and when it counts as abandoned.

The worker executing a run writes `heartbeat_at` every HEARTBEAT_S; a `processing` run whose
heartbeat is older than a stale-after threshold has no live worker and may be claimed again.
The threshold must outlast a few missed beats (a slow database, a long pause): below
MIN_STALE_AFTER_S a second worker could claim a run that is still running. This module
imports nothing heavy, so the CLI can use the bounds in its option definitions.
"""

from __future__ import annotations

from lse.errors import UsageError

HEARTBEAT_S = 5.0
STALE_AFTER_S = 60.0
MIN_STALE_AFTER_S = 3 * HEARTBEAT_S


def check_stale_after(stale_after_s: float) -> float:
    """`stale_after_s` if it is safe; else a one-line UsageError saying the minimum."""
    if not stale_after_s >= MIN_STALE_AFTER_S:  # `not >=` also refuses NaN
        raise UsageError(
            f"stale-after must be at least {MIN_STALE_AFTER_S:g} s (three heartbeats of {HEARTBEAT_S:g} s), "
            f"got {stale_after_s:g}: a shorter wait could hand a live run to a second worker"
        )
    return stale_after_s
