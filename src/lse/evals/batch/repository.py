"""Batch mode's reads and writes: batch rows, their request rows, leases, outcomes.

Every write that follows a remote step is a compare-and-set on the row: it names the lease
owner (and, where it matters, the state it expects), so a process that lost its lease, or
raced another, changes nothing and learns so from the return value. A lease is itself one
conditional UPDATE: free, expired, or already ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, and_, func, insert, or_, select, update

from lse.errors import NotFoundError, RowRefused
from lse.evals.batch.request_file import RequestRef
from lse.evals.batch.states import SUBMITTED
from lse.store.engine import unit_of_work
from lse.store.errors import integrity_refusal
from lse.store.models.batches import EvaluationBatch, EvaluationBatchRequest


@dataclass(frozen=True)
class NewBatch:
    run_id: int
    stage: str
    round: int
    part: int
    client_key: str
    endpoint: str
    model: str
    request_key: str
    request_url: str
    request_sha256: str
    request_bytes: int
    n_requests: int
    est_input_tokens: int


@dataclass(frozen=True)
class RequestOutcome:
    line_no: int
    outcome: str
    status_code: int | None
    error_code: str | None
    error: str | None
    usage: dict[str, int] | None
    response_id: str | None


def _changed(result: Any) -> bool:
    """Whether a single-row UPDATE hit its row (a DML result is a CursorResult)."""
    return isinstance(result, CursorResult) and result.rowcount == 1


class BatchRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    # --- creating ---------------------------------------------------------------------
    def insert_batch(self, new: NewBatch, refs: Sequence[RequestRef], *, now: datetime) -> int | None:
        """The batch row and its request rows in one transaction; None if that part exists already."""
        try:
            with unit_of_work(self.engine) as s:
                row = EvaluationBatch(
                    **asdict(new), state="prepared", anomalies=[], poll_failures=0, created_at=now, updated_at=now
                )
                s.add(row)
                s.flush()
                s.execute(
                    insert(EvaluationBatchRequest),
                    [
                        {
                            "batch_id": row.id,
                            "line_no": r.line_no,
                            "custom_id": r.custom_id,
                            "item_id": r.item_id,
                            "attempt": new.round,
                        }
                        for r in refs
                    ],
                )
                return row.id
        except RowRefused as exc:
            if integrity_refusal(exc):
                return None  # another step inserted this round first: theirs stands
            raise

    # --- reading ----------------------------------------------------------------------
    def get(self, batch_id: int) -> EvaluationBatch:
        with unit_of_work(self.engine) as s:
            row = s.get(EvaluationBatch, batch_id)
            if row is None:
                raise NotFoundError(f"provider batch row {batch_id} not found", code="batch_not_found")
            s.expunge(row)
            return row

    def batches_of_run(self, run_id: int, stage: str | None = None) -> list[EvaluationBatch]:
        with unit_of_work(self.engine) as s:
            q = select(EvaluationBatch).where(EvaluationBatch.run_id == run_id)
            if stage is not None:
                q = q.where(EvaluationBatch.stage == stage)
            rows = list(s.scalars(q.order_by(EvaluationBatch.round, EvaluationBatch.part)))
            for row in rows:
                s.expunge(row)
            return rows

    def requests_of(self, batch_id: int) -> list[EvaluationBatchRequest]:
        with unit_of_work(self.engine) as s:
            rows = list(
                s.scalars(
                    select(EvaluationBatchRequest)
                    .where(EvaluationBatchRequest.batch_id == batch_id)
                    .order_by(EvaluationBatchRequest.line_no)
                )
            )
            for row in rows:
                s.expunge(row)
            return rows

    def refs_of(self, batch_id: int) -> list[RequestRef]:
        """The batch's lines (line number, custom_id, item), in order: three columns, no ORM rows."""
        with unit_of_work(self.engine) as s:
            rows = s.execute(
                select(EvaluationBatchRequest.line_no, EvaluationBatchRequest.custom_id, EvaluationBatchRequest.item_id)
                .where(EvaluationBatchRequest.batch_id == batch_id)
                .order_by(EvaluationBatchRequest.line_no)
            ).all()
            return [RequestRef(line_no, custom_id, item_id) for line_no, custom_id, item_id in rows]

    def items_in_round(self, run_id: int, stage: str, round_: int) -> tuple[set[int], int]:
        """Item ids already in a request file of this round, and the highest part number used."""
        with unit_of_work(self.engine) as s:
            ids = set(
                s.scalars(
                    select(EvaluationBatchRequest.item_id)
                    .join(EvaluationBatch, EvaluationBatch.id == EvaluationBatchRequest.batch_id)
                    .where(
                        EvaluationBatch.run_id == run_id,
                        EvaluationBatch.stage == stage,
                        EvaluationBatch.round == round_,
                    )
                )
            )
            top = s.scalar(
                select(func.max(EvaluationBatch.part)).where(
                    EvaluationBatch.run_id == run_id, EvaluationBatch.stage == stage, EvaluationBatch.round == round_
                )
            )
            return ids, int(top or 0)

    def due_for_poll(self, now: datetime, *, run_id: int | None = None, limit: int = 100) -> list[int]:
        """Submitted batches whose next poll is due and whose lease is free or expired."""
        with unit_of_work(self.engine) as s:
            q = select(EvaluationBatch.id).where(
                EvaluationBatch.state == SUBMITTED,
                or_(EvaluationBatch.next_poll_at.is_(None), EvaluationBatch.next_poll_at <= now),
                or_(EvaluationBatch.lease_until.is_(None), EvaluationBatch.lease_until < now),
            )
            if run_id is not None:
                q = q.where(EvaluationBatch.run_id == run_id)
            return list(s.scalars(q.order_by(EvaluationBatch.next_poll_at, EvaluationBatch.id).limit(limit)))

    # --- leases -----------------------------------------------------------------------
    def acquire(
        self, batch_id: int, owner: str, *, now: datetime, lease_s: float, states: Iterable[str] | None = None
    ) -> bool:
        """Take (or extend) the row's lease if it is free, expired or ours, and in one of `states`."""
        conds = [
            EvaluationBatch.id == batch_id,
            or_(
                EvaluationBatch.lease_owner.is_(None),
                EvaluationBatch.lease_until.is_(None),
                EvaluationBatch.lease_until < now,
                EvaluationBatch.lease_owner == owner,
            ),
        ]
        if states is not None:
            conds.append(EvaluationBatch.state.in_(list(states)))
        with unit_of_work(self.engine) as s:
            result = s.execute(
                update(EvaluationBatch)
                .where(and_(*conds))
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s))
                .execution_options(synchronize_session=False)
            )
            return _changed(result)

    def release(self, batch_id: int, owner: str) -> None:
        with unit_of_work(self.engine) as s:
            s.execute(
                update(EvaluationBatch)
                .where(EvaluationBatch.id == batch_id, EvaluationBatch.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    # --- writing ------------------------------------------------------------------------
    def update(self, batch_id: int, owner: str, *, expect_state: str | None = None, **values: Any) -> bool:
        """Set `values` if `owner` holds the lease (and the state is `expect_state`); True if it did."""
        conds = [EvaluationBatch.id == batch_id, EvaluationBatch.lease_owner == owner]
        if expect_state is not None:
            conds.append(EvaluationBatch.state == expect_state)
        with unit_of_work(self.engine) as s:
            result = s.execute(
                update(EvaluationBatch).where(*conds).values(**values).execution_options(synchronize_session=False)
            )
            return _changed(result)

    def record_collected(
        self,
        batch_id: int,
        owner: str,
        outcomes: Sequence[RequestOutcome],
        *,
        now: datetime,
        anomalies: list[dict[str, Any]],
        expect_state: str,
    ) -> bool:
        """Every request's outcome and the batch `collected`, in one transaction, once."""
        with unit_of_work(self.engine) as s:
            result = s.execute(
                update(EvaluationBatch)
                .where(
                    EvaluationBatch.id == batch_id,
                    EvaluationBatch.lease_owner == owner,
                    EvaluationBatch.state == expect_state,
                )
                .values(state="collected", collected_at=now, anomalies=anomalies, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if not _changed(result):
                return False
            ids = dict(
                s.execute(
                    select(EvaluationBatchRequest.line_no, EvaluationBatchRequest.id).where(
                        EvaluationBatchRequest.batch_id == batch_id
                    )
                ).all()
            )
            if outcomes:
                s.execute(
                    update(EvaluationBatchRequest),
                    [
                        {
                            "id": ids[o.line_no],
                            "outcome": o.outcome,
                            "status_code": o.status_code,
                            "error_code": o.error_code,
                            "error": o.error,
                            "usage": o.usage,
                            "response_id": o.response_id,
                        }
                        for o in outcomes
                    ],
                )
            return True
