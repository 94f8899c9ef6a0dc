"""What every poller calls: `advance_batch_runs` (one step for each batch run that needs one)
and `wait_for_run` (one run stepped in the foreground until it ends).

The same function serves the in-process pool of `lse serve`, `lse worker`, a cron
`lse eval poll` and `lse eval resume`; claims on runs and leases on batches make any number
of them safe at once. A pass costs one query when nothing is due: batches say when they next
need a poll (`LSE_EVAL_BATCH_POLL_S` for young ones, slower for old ones).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from lse.errors import NotFoundError
from lse.evals.batch.bodies import BodyFn, responses_body
from lse.evals.batch.config import BatchConfig
from lse.evals.batch.run_rows import due_batch_runs
from lse.evals.batch.run_step import BUSY, ERROR, FINISHED, RunStep, advance_run, run_status
from lse.evals.batch.states import SUBMITTED, TERMINAL
from lse.evals.batch.times import seconds_between
from lse.evals.pipeline.stages import RunOutcome
from lse.evals.pipeline.status import RunStatus
from lse.objects import object_store
from lse.progress import NullProgress, Progress
from lse.providers.client import openai_client
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.batches import EvaluationBatch
from lse.store.models.evaluation import EvaluationRun, utcnow

MIN_WAIT_S = 0.05


def tick_s(settings: Settings) -> float:
    """How often a watching process looks for due batch runs: often enough for the poll cadence."""
    return max(MIN_WAIT_S, min(settings.eval_batch_poll_s, settings.eval_heartbeat_s))


def advance_batch_runs(
    settings: Settings,
    *,
    run_ids: Sequence[int] | None = None,
    limit: int = 100,
    body_for: BodyFn = responses_body,
    now: Callable[[], datetime] = utcnow,
) -> list[RunStep]:
    """One step for every batch run that needs one now (or for `run_ids`); their outcomes."""
    engine = get_engine(settings)
    ids = (
        list(run_ids)
        if run_ids is not None
        else due_batch_runs(engine, now(), stale_after_s=settings.eval_stale_after_s, limit=limit)
    )
    if not ids:
        return []
    client = openai_client(settings)
    store = object_store(settings)
    config = BatchConfig.from_settings(settings)
    try:
        return [
            advance_run(settings, run_id, client=client, store=store, config=config, body_for=body_for, now=now)
            for run_id in ids
        ]
    finally:
        client.close()


def outcome_of(settings: Settings, run_id: int) -> RunOutcome:
    """A finished run's outcome read back from its row (when another process finished it)."""
    with unit_of_work(get_engine(settings)) as s:
        run = s.get(EvaluationRun, run_id)
        assert run is not None
        return RunOutcome(
            run_id,
            RunStatus(run.status),
            run.items_succeeded or 0,
            run.items_failed or 0,
            run.score,
            run.cost,
            run.error_message,
        )


class _Counter:
    """Requests answered so far (what the provider counted, plus items already kept), as a bar."""

    def __init__(self, settings: Settings, run_id: int, progress: Progress):
        self.settings, self.run_id, self.progress = settings, run_id, progress
        self.shown = 0
        self.started = False

    def show(self) -> None:
        with unit_of_work(get_engine(self.settings)) as s:
            run = s.get(EvaluationRun, self.run_id)
            if run is None:
                return
            kept = (run.items_succeeded or 0) + (run.items_failed or 0)
            live = s.query(EvaluationBatch).filter(
                EvaluationBatch.run_id == self.run_id, EvaluationBatch.state.in_((SUBMITTED, TERMINAL))
            )
            answered = sum(
                int((b.request_counts or {}).get("completed") or 0) + int((b.request_counts or {}).get("failed") or 0)
                for b in live
            )
            total = run.total_items
        if not self.started:
            self.progress.start(total, "batch requests")
            self.started = True
        done = min(total, kept + answered)
        if done > self.shown:
            self.progress.update(done - self.shown)
            self.shown = done


def wait_for_run(
    settings: Settings,
    run_id: int,
    *,
    progress: Progress | None = None,
    body_for: BodyFn = responses_body,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = utcnow,
) -> RunOutcome:
    """Step batch run `run_id` here until it ends (another process may take steps meanwhile)."""
    progress = progress or NullProgress()
    counter = _Counter(settings, run_id, progress)
    said: str | None = None
    while True:
        step = advance_run(settings, run_id, progress=progress, body_for=body_for, now=now)
        if step.action == ERROR and step.note != said:  # tried again at the next step; say so once
            progress.log(f"run {run_id}: step failed, trying again: {step.note}")
            said = step.note
        if step.action == FINISHED and step.outcome is not None:
            counter.show()
            progress.complete()
            return step.outcome
        status = run_status(settings, run_id)
        if status == "missing":
            raise NotFoundError(f"evaluation run {run_id} no longer exists", code="run_not_found")
        if RunStatus(status).finished:
            progress.complete()
            return outcome_of(settings, run_id)
        counter.show()
        if step.action == BUSY or step.next_due_at is None:  # another process is on it: look again soon
            wait = tick_s(settings)
        else:
            wait = min(settings.eval_batch_poll_s, max(MIN_WAIT_S, seconds_between(now(), step.next_due_at)))
        sleep(wait)
