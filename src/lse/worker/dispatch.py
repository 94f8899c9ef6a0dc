"""Where an evaluation run goes to be executed: in-process pool, this process, or Celery.

Contract used by the API and CLI:
- `available_modes(settings) -> set[str]`: run modes that have an engine now ({"fast"});
- `submit_run(settings, run_id)`: hand a pending run to the configured backend — a Celery
  task on queue `evaluations` when LSE_CELERY_BROKER_URL is set, else the in-process pool;
- `start_background(settings)` / `stop_background()`: the in-process pool's lifecycle,
  called by the API app's lifespan (it also picks up runs a dead process left behind);
- `run_inline(settings, run_id, progress)`: execute in this process (`lse eval run`);
- `resume_runs(settings, ...)`: `lse eval resume` — re-run stale or named runs here.
"""

from __future__ import annotations

import logging
import threading

from lse.errors import ConflictError, NotFoundError, UpstreamError, ValidationFailed
from lse.evals.fast import FastRunOutcome, execute_run
from lse.evals.fast.repository import FastRunRepository
from lse.evals.liveness import STALE_AFTER_S, check_stale_after
from lse.progress import Progress
from lse.settings import Settings
from lse.store.engine import get_engine

log = logging.getLogger(__name__)

_pool = None
_pool_lock = threading.Lock()


def available_modes(settings: Settings) -> set[str]:
    return {"fast"}


def _ensure_pool(settings: Settings):
    global _pool  # noqa: PLW0603 -- one in-process pool per process, started lazily
    from lse.worker.pool import InProcessPool

    with _pool_lock:
        if _pool is None:
            _pool = InProcessPool(settings)
        return _pool


def submit_run(settings: Settings, run_id: int) -> None:
    if settings.celery_broker_url:
        send_to_celery(settings, run_id)
        return
    _ensure_pool(settings).submit(run_id)


def send_to_celery(settings: Settings, run_id: int) -> None:
    from lse.worker.celery_app import TASK_RUN_FAST, create_celery_app, queue_name

    app = create_celery_app(settings)
    try:
        app.send_task(
            TASK_RUN_FAST,
            args=[int(run_id)],
            queue=queue_name(settings),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
        )
    except Exception as exc:  # kombu/redis errors: the broker is the problem, say which
        raise UpstreamError(
            f"could not queue run {run_id} on the Celery broker {settings.celery_broker_url}: {exc}; "
            "check that Redis is up and LSE_CELERY_BROKER_URL is right",
            code="broker_unavailable",
        ) from exc


def start_background(settings: Settings) -> None:
    """Start the in-process pool (embedded mode) and queue runs a dead process left behind."""
    if settings.celery_broker_url:
        return  # Celery workers own execution and recover on their own start
    pool = _ensure_pool(settings)
    try:
        ids = pool.recover()
        if ids:
            log.warning("resuming %d fast run(s) left behind: %s", len(ids), ids)
    except Exception:
        log.exception("could not look for runs to resume")


def stop_background() -> None:
    global _pool  # noqa: PLW0603 -- one in-process pool per process, started lazily
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def _check_runnable(settings: Settings, run_id: int) -> None:
    from lse.store.engine import unit_of_work
    from lse.store.models.evaluation import EvaluationRun

    with unit_of_work(get_engine(settings)) as s:
        run = s.get(EvaluationRun, run_id)
        if run is None:
            raise NotFoundError(f"evaluation run {run_id} not found", code="run_not_found")
        if run.run_mode != "fast":
            raise ValidationFailed(
                f"run {run_id} is a {run.run_mode} run; only fast runs execute here", code="run_mode_not_available"
            )
        if run.status in ("completed", "failed"):
            raise ConflictError(f"run {run_id} is already {run.status}", code="run_finished")


def run_inline(settings: Settings, run_id: int, progress: Progress | None = None) -> FastRunOutcome:
    """Execute a run in this process (the CLI's `lse eval run`), reporting progress."""
    _check_runnable(settings, run_id)
    outcome = execute_run(settings, run_id, progress)
    if outcome is None:
        raise ConflictError(
            f"run {run_id} is being processed by another worker (its heartbeat is fresh)", code="run_in_progress"
        )
    return outcome


def resume_runs(
    settings: Settings,
    *,
    run_id: int | None = None,
    stale_after_s: float = STALE_AFTER_S,
    progress: Progress | None = None,
) -> list[FastRunOutcome]:
    """Run here every fast run left `processing` by a dead worker (or just `run_id`)."""
    check_stale_after(stale_after_s)
    if run_id is not None:
        _check_runnable(settings, run_id)
        ids = [run_id]
    else:
        ids = FastRunRepository(get_engine(settings)).resumable_runs(stale_after_s=stale_after_s)
    outcomes = []
    for rid in ids:
        outcome = execute_run(settings, rid, progress, stale_after_s=stale_after_s)
        if outcome is None and run_id is not None:
            raise ConflictError(
                f"run {rid} is being processed by a live worker (heartbeat newer than {stale_after_s:g}s)",
                code="run_in_progress",
            )
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
