"""Celery tasks: thin wrappers that run the same job code as the other backends."""

from __future__ import annotations

import logging

from celery import shared_task

from lse.evals.fast import execute_run
from lse.settings import load_settings
from lse.tracing import after_run_completed
from lse.worker.batch_poller import report, step_batch_runs
from lse.worker.celery_app import TASK_ADVANCE_BATCH, TASK_RUN_FAST

log = logging.getLogger(__name__)


@shared_task(name=TASK_RUN_FAST, acks_late=True, ignore_result=True)
def run_fast(run_id: int, stale_after_s: float | None = None) -> str:
    """Execute (or resume) fast run `run_id` in this worker; settings come from its environment.

    `stale_after_s` is set when the task re-queues a run a dead worker left `processing`.
    """
    stale = None if stale_after_s is None else float(stale_after_s)
    settings = load_settings()
    outcome = execute_run(settings, int(run_id), stale_after_s=stale)
    status = outcome.status if outcome is not None else "skipped"
    if status == "completed":
        after_run_completed(settings, int(run_id))  # never raises: a failed export is retried later
    log.info("fast run %s: %s", run_id, status)
    return status


@shared_task(name=TASK_ADVANCE_BATCH, acks_late=True, ignore_result=True)
def advance_batch(run_id: int) -> str:
    """One step of batch run `run_id` now (its first, when it was just created); the worker's
    batch poller takes the later ones. A duplicate message is harmless: the claim lets one act."""
    steps = step_batch_runs(load_settings(), [int(run_id)])
    report(steps)
    return steps[0].action if steps else "skipped"
