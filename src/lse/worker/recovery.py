"""Celery workers re-queue fast runs whose worker died (stale heartbeat): on start, then periodically.

Several workers may queue the same run; the claim (compare-and-set on the run row) lets
exactly one execute it and turns the others into no-ops.
"""

from __future__ import annotations

import logging
import threading

from lse.evals.fast import STALE_AFTER_S
from lse.evals.fast.repository import FastRunRepository
from lse.settings import Settings
from lse.store.engine import get_engine

log = logging.getLogger(__name__)


def requeue_left_behind(settings: Settings, *, queue: str, stale_after_s: float = STALE_AFTER_S) -> list[int]:
    from lse.worker.celery_app import TASK_RUN_FAST, create_celery_app

    try:
        ids = FastRunRepository(get_engine(settings)).resumable_runs(stale_after_s=stale_after_s)
    except Exception:  # noqa: BLE001 - never keep a worker from starting
        log.exception("could not look for runs to resume")
        return []
    app = create_celery_app(settings)
    for run_id in ids:
        app.send_task(TASK_RUN_FAST, args=[run_id], kwargs={"stale_after_s": stale_after_s}, queue=queue)
    if ids:
        log.warning("re-queued %d fast run(s) left behind: %s", len(ids), ids)
    return ids


def watch_left_behind(settings: Settings, *, queue: str, stale_after_s: float = STALE_AFTER_S) -> threading.Thread:
    """A daemon thread that re-checks every `stale_after_s` (at least 10 s) for the worker's life."""
    every = max(10.0, stale_after_s)

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(every):
            try:
                requeue_left_behind(settings, queue=queue, stale_after_s=stale_after_s)
            except Exception:  # noqa: BLE001
                log.exception("periodic recovery failed")

    thread = threading.Thread(target=loop, name="lse-recovery", daemon=True)
    thread.start()
    return thread
