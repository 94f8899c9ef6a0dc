"""Celery workers re-queue fast runs that lost their worker or their message: on start, then periodically.

Two kinds are left behind: `processing` runs whose heartbeat is older than `stale_after_s`
(the worker died) and `pending` runs nobody claimed for as long (the broker lost the
message, or it was queued while no worker consumed). Several workers may queue the same
run; the claim (compare-and-set on the run row) lets exactly one execute it and turns the
others into no-ops. A re-queued pending run restarts its pending clock, so a long backlog
is not queued again at every sweep.
"""

from __future__ import annotations

import logging
import threading

from lse.evals.liveness import STALE_AFTER_S, check_stale_after
from lse.evals.pipeline.repository import RunRepository
from lse.settings import Settings
from lse.store.engine import get_engine

log = logging.getLogger(__name__)


def requeue_left_behind(settings: Settings, *, queue: str, stale_after_s: float = STALE_AFTER_S) -> list[int]:
    """Queue every run left behind (see the module docstring); returns their ids."""
    from lse.worker.celery_app import TASK_RUN_FAST, create_celery_app

    check_stale_after(stale_after_s, settings.eval_heartbeat_s)
    repo = RunRepository(get_engine(settings), heartbeat_s=settings.eval_heartbeat_s)
    try:
        ids = repo.resumable_runs(stale_after_s=stale_after_s, include_pending_older_than_s=stale_after_s)
    except Exception:
        log.exception("could not look for runs to resume")
        return []
    app = create_celery_app(settings)
    for run_id in ids:
        app.send_task(TASK_RUN_FAST, args=[run_id], kwargs={"stale_after_s": stale_after_s}, queue=queue)
    repo.mark_requeued(ids)
    if ids:
        log.warning("re-queued %d fast run(s) left behind: %s", len(ids), ids)
    return ids


def watch_left_behind(settings: Settings, *, queue: str, stale_after_s: float = STALE_AFTER_S) -> threading.Thread:
    """A daemon thread that re-checks every `stale_after_s` for the worker's life."""
    check_stale_after(stale_after_s, settings.eval_heartbeat_s)

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(stale_after_s):
            try:
                requeue_left_behind(settings, queue=queue, stale_after_s=stale_after_s)
            except Exception:
                log.exception("periodic recovery failed")

    thread = threading.Thread(target=loop, name="lse-recovery", daemon=True)
    thread.start()
    return thread
