"""One step of a batch run, whatever it is waiting for: the unit every poller repeats.

A step claims the run (the batch claim: `pending`, or `processing` with nobody stepping it),
beats while it works, and lets go at the end, so any number of pollers (`lse serve`'s pool,
`lse worker`, `lse eval poll`, `lse eval resume`, a foreground `lse eval run`) can call it.
Inside, in order:

1. a user's cancel: every live provider batch is cancelled (asked again at every step until
   the provider took it);
2. every live batch of the run takes its own step (`driver.advance_batch`: submit, poll when
   due, collect): submits are held back while the run's enqueued tokens are over
   `LSE_EVAL_BATCH_MAX_ENQUEUED_TOKENS`, or while a deferral lasts. A batch whose collection
   says the run cannot succeed (first round completed without one success) or a submit the
   key or quota refused gets its siblings cancelled at once, so the run fails in minutes with
   every paid answer kept;
3. once no batch of the current round is live, the round is applied (`rounds.apply_round`):
   results saved, and items without one prepared into a round;
4. once every item has a result: the responses unit, then the shared stages — failure
   threshold, embeddings and scores (synchronous, with the fast mode's caches), cost at
   Batch API rates, finish.
A failure that may pass (database, object store, provider) is left for the next step; the
run stays `processing`, since its batches live on at the provider whatever happens here.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import openai

from lse.errors import ConfigError, LseError, NotFoundError, ValidationFailed
from lse.evals.batch.bodies import BodyFn, responses_body
from lse.evals.batch.cancel import cancel_batch_row
from lse.evals.batch.config import BatchConfig
from lse.evals.batch.driver import Step, advance_batch
from lse.evals.batch.repository import BatchRepository
from lse.evals.batch.rounds import RoundContext, apply_round, finish_run, stop_the_run
from lse.evals.batch.run_rows import LIVE, hold_batches, in_flight_tokens, next_due
from lse.evals.batch.states import NOT_YET_CREATED, STAGE_RESPONSES, SUBMITTED
from lse.evals.batch.times import as_utc
from lse.evals.liveness import check_stale_after
from lse.evals.pipeline.caller import StopSignal
from lse.evals.pipeline.heartbeat import Heartbeat
from lse.evals.pipeline.repository import RunRepository
from lse.evals.pipeline.stages import RunOutcome
from lse.evals.pipeline.status import RunStatus, StageJob
from lse.objects import ObjectStore, object_store
from lse.progress import NullProgress, Progress
from lse.providers.client import openai_client
from lse.providers.errors import ProviderCallError
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.batches import EvaluationBatch
from lse.store.models.evaluation import EvaluationRun, utcnow

log = logging.getLogger(__name__)

BUSY = "busy"  # another process is stepping the run
WAITING = "waiting"  # batches are with the provider
FINISHED = "finished"
ERROR = "error"  # this step failed for a reason that may pass: the next one tries again
MAX_PASSES = 4  # prepare → submit → (all refused at once) → apply again, within one step


@dataclass
class RunStep:
    run_id: int
    action: str
    status: str  # the run's status after the step
    note: str | None = None
    batch_steps: list[Step] = field(default_factory=list)
    outcome: RunOutcome | None = None
    next_due_at: datetime | None = None  # when the run next needs a step (None: nothing scheduled)


def step_owner() -> str:
    """A lease owner unique to one step (two threads of a process must not share a lease)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_status(settings: Settings, run_id: int) -> str:
    with unit_of_work(get_engine(settings)) as s:
        run = s.get(EvaluationRun, run_id)
        return run.status if run is not None else "missing"


def advance_run(
    settings: Settings,
    run_id: int,
    *,
    client: openai.OpenAI | None = None,
    store: ObjectStore | None = None,
    config: BatchConfig | None = None,
    owner: str | None = None,
    progress: Progress | None = None,
    body_for: BodyFn = responses_body,
    now: Callable[[], datetime] = utcnow,
) -> RunStep:
    """Take one step of batch run `run_id` if nobody else is (see the module docstring)."""
    engine = get_engine(settings)
    runs = RunRepository(engine, mode="batch", heartbeat_s=settings.eval_heartbeat_s)
    stale = check_stale_after(settings.eval_stale_after_s, settings.eval_heartbeat_s)
    if not runs.claim(run_id, stale_after_s=stale):
        return RunStep(run_id, BUSY, run_status(settings, run_id))
    own_client = client is None
    stop = StopSignal()
    try:
        if client is None:
            client = openai_client(settings)
        rc = RoundContext(
            settings=settings,
            runs=runs,
            batches=BatchRepository(engine),
            client=client,
            store=store or object_store(settings),
            config=config or BatchConfig.from_settings(settings),
            owner=owner or step_owner(),
            progress=progress or NullProgress(),
            stop=stop,
            body_for=body_for,
            now=now,
            run_id=run_id,
        )
        with Heartbeat(runs, run_id, settings.eval_heartbeat_s, on_cancel=stop.cancel):
            return _step(rc)
    except ConfigError:
        raise  # this deployment cannot reach the provider (no API key): the caller must hear it
    except (NotFoundError, ValidationFailed) as exc:
        # the run itself is unusable (its config or dataset gone): no later step will do better
        log.warning("batch run %s cannot go on: %s", run_id, exc)
        items = runs.item_records(run_id)
        ok = sum(o.succeeded for o in items.values())
        runs.finish(
            run_id,
            status=RunStatus.FAILED,
            succeeded=ok,
            failed=len(items) - ok,
            score=None,
            cost=None,
            error_message=str(exc),
        )
        return RunStep(run_id, ERROR, run_status(settings, run_id), note=str(exc))
    except Exception as exc:
        message = str(exc) if isinstance(exc, LseError) else f"{type(exc).__name__}: {exc}"
        log.exception("batch run %s: step failed, tried again at the next one", run_id)
        return RunStep(run_id, ERROR, run_status(settings, run_id), note=message)
    finally:
        runs.release(run_id)
        if own_client and client is not None:
            client.close()


def _step(rc: RoundContext) -> RunStep:
    if rc.runs.cancel_requested(rc.run_id):
        rc.stop.cancel()
    if rc.runs.job(rc.run_id, StageJob.BATCH_RESPONSES) is not None:  # every item has its answer
        return _finished(rc, finish_run(rc))
    steps: list[Step] = []
    note: str | None = None
    for _ in range(MAX_PASSES):
        rows = rc.batches.batches_of_run(rc.run_id, STAGE_RESPONSES)
        if rc.stop.cancelled:
            note = _cancel_live(rc, rows, note)
            rows = rc.batches.batches_of_run(rc.run_id, STAGE_RESPONSES)
        live = [r for r in rows if r.state in LIVE]
        if live:
            steps += _advance_live(rc, live, rows)
            rows = rc.batches.batches_of_run(rc.run_id, STAGE_RESPONSES)
            live = [r for r in rows if r.state in LIVE]
            if live:
                notes = [s.note for s in steps if s.note]
                return RunStep(
                    rc.run_id,
                    WAITING,
                    RunStatus.PROCESSING,
                    note=note or (notes[-1] if notes else None),
                    batch_steps=steps,
                    next_due_at=next_due(live, rc.now()),
                )
        fresh = {st.batch_id: st.collected for st in steps if st.collected is not None}
        outcome = apply_round(rc, rows, fresh)
        if outcome is not None:
            return _finished(rc, outcome, steps)
    return RunStep(rc.run_id, WAITING, RunStatus.PROCESSING, batch_steps=steps, next_due_at=rc.now())


def _finished(rc: RoundContext, outcome: RunOutcome, steps: list[Step] | None = None) -> RunStep:
    return RunStep(
        rc.run_id, FINISHED, outcome.status, note=outcome.error_message, batch_steps=steps or [], outcome=outcome
    )


def _advance_live(rc: RoundContext, live: list[EvaluationBatch], rows: list[EvaluationBatch]) -> list[Step]:
    at = rc.now()
    budget = rc.config.limits.max_tokens
    enqueued = in_flight_tokens(rows)
    waiting_for_room: list[int] = []
    steps: list[Step] = []
    for row in sorted(live, key=lambda r: (r.round, r.part)):
        due = row.next_poll_at is None or as_utc(row.next_poll_at) <= at
        if row.state in NOT_YET_CREATED:
            if rc.stop.cancelled or not due:
                continue
            if budget is not None and enqueued and enqueued + row.est_input_tokens > budget:
                waiting_for_room.append(row.id)  # the provider would refuse it now: later
                continue
        elif row.state == SUBMITTED and not due:
            continue
        step = advance_batch(rc.batches, rc.client, rc.store, row.id, owner=rc.owner, config=rc.config, now=rc.now)
        steps.append(step)
        if step.submitted is not None and step.submitted.state == SUBMITTED:
            enqueued += row.est_input_tokens
        if step.submitted is not None and step.submitted.stops_run:
            stop_the_run(rc, row, step.submitted.message or "the provider refused the key or the quota")
            _cancel_live(rc, rc.batches.batches_of_run(rc.run_id, STAGE_RESPONSES), None)
        elif step.collected is not None and step.collected.fatal:
            _cancel_live(rc, rc.batches.batches_of_run(rc.run_id, STAGE_RESPONSES), None)
    hold_batches(rc.batches.engine, waiting_for_room, at + timedelta(seconds=rc.config.poll_s))
    return steps


def _cancel_live(rc: RoundContext, rows: list[EvaluationBatch], note: str | None) -> str | None:
    """Ask the provider to cancel every live batch not yet cancelled; a failure is asked again next step."""
    for row in rows:
        if row.state not in LIVE or row.cancel_requested_at is not None:
            continue
        try:
            done = cancel_batch_row(rc.batches, rc.client, row.id, owner=rc.owner, config=rc.config, now=rc.now)
        except ProviderCallError as exc:
            note = f"cancelling provider batch row {row.id} failed, asked again at the next step: {exc}"
            continue
        if not done.done:
            note = f"provider batch row {row.id} is busy; its cancel is asked again at the next step"
    return note
