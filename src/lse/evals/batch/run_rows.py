"""The run-level reads and writes of batch mode: which batch runs need a step now, and holding
prepared batches back until a time.

A batch run needs a step when it is `pending`, when a user asked to cancel it, when none of
its batches is still live (a round to apply, or the first one to prepare), or when one of its
batches is due: terminal (to collect), prepared or uploaded and not held back (to submit),
submitted with its next poll due. A run whose step another process holds right now (fresh
heartbeat) is left out; the claim would refuse it anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, exists, or_, select, update

from lse.evals.batch.states import NOT_YET_CREATED, PROVIDER_TERMINAL, SUBMITTED, TERMINAL
from lse.evals.batch.times import as_utc
from lse.evals.pipeline.status import RunStatus
from lse.store.engine import unit_of_work
from lse.store.models.batches import EvaluationBatch
from lse.store.models.evaluation import EvaluationRun

BATCH_MODE = "batch"
LIVE = (*NOT_YET_CREATED, SUBMITTED, TERMINAL)  # states with work left for a poller


def due_batch_runs(engine: Engine, now: datetime, *, stale_after_s: float, limit: int = 100) -> list[int]:
    """Batch runs that need a step at `now`, oldest first (see the module docstring)."""
    b = EvaluationBatch
    r = EvaluationRun
    time_has_come = or_(b.next_poll_at.is_(None), b.next_poll_at <= now)
    due_batch = exists().where(
        b.run_id == r.id,
        or_(
            b.state == TERMINAL,
            and_(b.state.in_(NOT_YET_CREATED), time_has_come),
            and_(b.state == SUBMITTED, time_has_come),
        ),
    )
    live_batch = exists().where(b.run_id == r.id, b.state.in_(LIVE))
    free = or_(r.heartbeat_at.is_(None), r.heartbeat_at < now - timedelta(seconds=stale_after_s))
    query = (
        select(r.id)
        .where(
            r.run_mode == BATCH_MODE,
            or_(
                r.status == RunStatus.PENDING,
                and_(
                    r.status == RunStatus.PROCESSING,
                    free,
                    or_(r.cancel_requested_at.is_not(None), due_batch, ~live_batch),
                ),
            ),
        )
        .order_by(r.id)
        .limit(limit)
    )
    with unit_of_work(engine) as s:
        return list(s.scalars(query))


def hold_batches(engine: Engine, batch_ids: Iterable[int], until: datetime) -> None:
    """Keep prepared batches from being submitted before `until` (nobody holds a new row's lease)."""
    ids = list(batch_ids)
    if not ids:
        return
    with unit_of_work(engine) as s:
        s.execute(
            update(EvaluationBatch)
            .where(EvaluationBatch.id.in_(ids), EvaluationBatch.state.in_(NOT_YET_CREATED))
            .values(next_poll_at=until)
            .execution_options(synchronize_session=False)
        )


def next_due(rows: Sequence[EvaluationBatch], now: datetime) -> datetime | None:
    """When the earliest of these batches next needs a step (`now` if one needs it already)."""
    times: list[datetime] = []
    for row in rows:
        if row.state == TERMINAL:
            return now
        if row.state in NOT_YET_CREATED or row.state == SUBMITTED:
            times.append(now if row.next_poll_at is None else max(now, as_utc(row.next_poll_at)))
    return min(times) if times else None


def in_flight_tokens(rows: Sequence[EvaluationBatch]) -> int:
    """Estimated input tokens of the batches the provider holds unfinished (its enqueued tokens)."""
    return sum(
        int(row.est_input_tokens)
        for row in rows
        if row.state == SUBMITTED and (row.provider_status or "") not in PROVIDER_TERMINAL
    )
