"""Where an evaluation run goes to be executed: in-process pool, this process, or Celery.

Contract used by the API and CLI:
- `available_modes(settings) -> set[str]`: run modes that have an engine ({"fast", "batch"});
- `submit_run(settings, run_id)`: hand a pending run to the configured backend — a Celery
  task on queue `evaluations` when LSE_CELERY_BROKER_URL is set, else the in-process pool
  (a batch run gets its first step there; the pollers take the others);
- `nudge(settings, run_id)`: a batch run's next step now (after a cancel), not at the next tick;
- `cancel_run(settings, tenant, run_id)`: the cancel service (`lse.evals.cancel`), then a nudge;
- `start_background(settings)` / `stop_background()`: the in-process pool's lifecycle,
  called by the API app's lifespan (for as long as it lives it also picks up runs a dead
  process left behind, and polls batch runs);
- `run_inline(settings, run_id, progress)`: execute in this process (`lse eval run`); a batch
  run is stepped here until it ends;
- `resume_runs(settings, ...)`: `lse eval resume` — re-run stale or named runs here;
- `poll_batch_runs(settings, run_id=None)`: `lse eval poll` — one step of every batch run due;
- `takeover_notice(settings, run_id)`: when a run held by a live worker will be picked up
  if that worker is gone, and by whom.
"""

from __future__ import annotations

import logging
import threading
import time

from lse.errors import ConflictError, LseError, NotFoundError, UpstreamError, ValidationFailed
from lse.evals import cancel
from lse.evals.batch.pollers import wait_for_run
from lse.evals.batch.run_step import RunStep
from lse.evals.fast import RunOutcome, execute_run
from lse.evals.liveness import BEATS_BEFORE_STALE, check_stale_after, takeover_at
from lse.evals.pipeline.repository import RunRepository
from lse.evals.pipeline.status import RunStatus
from lse.evals.schemas import RunPublic
from lse.progress import Progress
from lse.settings import Settings
from lse.store.engine import get_engine
from lse.tenancy import Tenant
from lse.tracing import TracingWatcher
from lse.worker.batch_poller import step_batch_runs

log = logging.getLogger(__name__)

_pool = None
_tracing: TracingWatcher | None = None
_pool_lock = threading.Lock()


BATCH = "batch"


def available_modes(settings: Settings) -> set[str]:
    return {"fast", BATCH}


def _mode_of(settings: Settings, run_id: int) -> str:
    from lse.store.engine import unit_of_work
    from lse.store.models.evaluation import EvaluationRun

    with unit_of_work(get_engine(settings)) as s:
        run = s.get(EvaluationRun, run_id)
        if run is None:
            raise NotFoundError(f"evaluation run {run_id} not found", code="run_not_found")
        return run.run_mode


def _ensure_pool(settings: Settings):
    global _pool  # noqa: PLW0603 -- one in-process pool per process, started lazily
    from lse.worker.pool import InProcessPool

    with _pool_lock:
        if _pool is None:
            _pool = InProcessPool(settings)
        return _pool


def submit_run(settings: Settings, run_id: int) -> None:
    mode = _mode_of(settings, run_id)
    if settings.celery_broker_url:
        send_to_celery(settings, run_id, mode=mode)
        return
    pool = _ensure_pool(settings)
    if mode == BATCH:
        pool.submit_batch(run_id)
    else:
        pool.submit(run_id)


def nudge(settings: Settings, run_id: int) -> None:
    """A batch run's next step now rather than at the pollers' next tick (a fast run's worker
    sees a cancel at its next heartbeat by itself)."""
    if _mode_of(settings, run_id) == BATCH:
        submit_run(settings, run_id)


def cancel_run(settings: Settings, tenant: Tenant | None, run_id: int) -> RunPublic:
    """Cancel a run (`lse.evals.cancel.cancel_run`: the API, the viewer and the CLI call this)
    and give a running batch run its next step now, so its provider batches are cancelled
    without waiting for the pollers' next tick."""
    run = cancel.cancel_run(settings, tenant, run_id)
    if run.status == RunStatus.PROCESSING:
        try:
            nudge(settings, run.id)
        except LseError:  # the pollers take the step at their next tick anyway
            log.warning("could not hand run %s's cancel to a worker now; the pollers will", run.id, exc_info=True)
    return run


def send_to_celery(settings: Settings, run_id: int, *, mode: str = "fast") -> None:
    from lse.worker.celery_app import TASK_ADVANCE_BATCH, TASK_RUN_FAST, create_celery_app, queue_name

    app = create_celery_app(settings)
    try:
        app.send_task(
            TASK_ADVANCE_BATCH if mode == BATCH else TASK_RUN_FAST,
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
    """Start the in-process pool (embedded mode); it queues runs a dead process left behind,
    now and every heartbeat interval for as long as it lives. The tracing exporter runs
    beside it (Celery workers run their own)."""
    global _tracing  # noqa: PLW0603 -- one background exporter per process, like the pool
    if settings.celery_broker_url:
        return  # Celery workers own execution and recover on their own
    _ensure_pool(settings).watch()
    with _pool_lock:
        if _tracing is None:
            _tracing = TracingWatcher(settings).start()


def stop_background() -> None:
    global _pool, _tracing  # noqa: PLW0603 -- one in-process pool per process, started lazily
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None
        if _tracing is not None:
            _tracing.stop()
            _tracing = None


def _check_runnable(settings: Settings, run_id: int) -> str:
    """The run's mode, if it exists and has not ended."""
    from lse.store.engine import unit_of_work
    from lse.store.models.evaluation import EvaluationRun

    with unit_of_work(get_engine(settings)) as s:
        run = s.get(EvaluationRun, run_id)
        if run is None:
            raise NotFoundError(f"evaluation run {run_id} not found", code="run_not_found")
        if run.run_mode not in available_modes(settings):
            raise ValidationFailed(
                f"run {run_id} is a {run.run_mode} run, which has no engine here", code="run_mode_not_available"
            )
        if RunStatus(run.status).finished:
            raise ConflictError(f"run {run_id} is already {run.status}", code="run_finished")
        return run.run_mode


def run_inline(settings: Settings, run_id: int, progress: Progress | None = None) -> RunOutcome:
    """Execute a run in this process (the CLI's `lse eval run`), reporting progress; a batch
    run is stepped here until it ends (other pollers may take steps meanwhile)."""
    if _check_runnable(settings, run_id) == BATCH:
        return wait_for_run(settings, run_id, progress=progress)
    outcome = execute_run(settings, run_id, progress)
    if outcome is None:
        raise ConflictError(takeover_notice(settings, run_id, settings.eval_stale_after_s), code="run_in_progress")
    return outcome


def poll_batch_runs(settings: Settings, run_id: int | None = None) -> list[RunStep]:
    """One step of every batch run that needs one (or of `run_id`), here and now."""
    if run_id is None:
        return step_batch_runs(settings)
    if _check_runnable(settings, run_id) != BATCH:
        raise ValidationFailed(f"run {run_id} is not a batch run: nothing to poll", code="not_a_batch_run")
    return step_batch_runs(settings, [run_id])


def takeover_notice(settings: Settings, run_id: int, stale_after_s: float) -> str:
    """Plainly: who holds the run, and when and by whom it is picked up if that worker is gone."""
    from lse.store.engine import unit_of_work
    from lse.store.models.evaluation import EvaluationRun, utcnow

    with unit_of_work(get_engine(settings)) as s:
        run = s.get(EvaluationRun, run_id)
        status, beat = (run.status, run.heartbeat_at) if run is not None else ("missing", None)
    now = utcnow()
    if status != RunStatus.PROCESSING:
        return f"run {run_id} is {status}"
    if beat is not None and beat.tzinfo is None:  # SQLite hands back naive UTC
        beat = beat.replace(tzinfo=now.tzinfo)
    when = takeover_at(beat, stale_after_s, now)
    wait_s = max(0.0, (when - now).total_seconds())
    if settings.celery_broker_url:
        who = f"an `lse worker` consuming queue {settings.celery_queue!r} (it re-queues left-behind runs)"
    else:
        who = f"a running `lse serve` (it checks every {settings.eval_heartbeat_s:g} s)"
    age = f"{(now - beat).total_seconds():.0f} s ago" if beat is not None else "never"
    return (
        f"run {run_id} is processing on a live worker (last heartbeat {age}). If that worker is gone, "
        f"{who} takes it over at {when:%H:%M:%S} UTC (in {wait_s:.0f} s, stale after {stale_after_s:g} s); "
        f"or run `lse eval resume {run_id} --wait` to take it over here then"
    )


def live_runs(settings: Settings) -> list[int]:
    """Fast runs a worker holds right now (its heartbeat may be fresh or already stale)."""
    return RunRepository(get_engine(settings), heartbeat_s=settings.eval_heartbeat_s).processing_runs()


def resume_runs(
    settings: Settings,
    *,
    run_id: int | None = None,
    stale_after_s: float | None = None,
    wait: bool = False,
    progress: Progress | None = None,
) -> list[RunOutcome]:
    """Run here every fast run left `processing` by a dead worker (or just `run_id`).

    With `wait`, a named run held by a live-looking worker is taken over as soon as its
    heartbeat goes stale (or finished by that worker meanwhile)."""
    stale = check_stale_after(
        stale_after_s if stale_after_s is not None else settings.eval_stale_after_s, settings.eval_heartbeat_s
    )
    if run_id is not None:
        if _check_runnable(settings, run_id) == BATCH:  # finish it here: step it until it ends
            return [wait_for_run(settings, run_id, progress=progress)]
        ids = [run_id]
    else:
        ids = RunRepository(get_engine(settings), heartbeat_s=settings.eval_heartbeat_s).resumable_runs(
            stale_after_s=stale
        )
    outcomes = []
    for rid in ids:
        outcome = execute_run(settings, rid, progress, stale_after_s=stale)
        while outcome is None and run_id is not None and wait:
            time.sleep(min(settings.eval_heartbeat_s, stale / BEATS_BEFORE_STALE))
            _check_runnable(settings, rid)  # finished meanwhile by its worker: say so
            outcome = execute_run(settings, rid, progress, stale_after_s=stale)
        if outcome is None and run_id is not None:
            raise ConflictError(takeover_notice(settings, rid, stale), code="run_in_progress")
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
