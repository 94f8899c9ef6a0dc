"""The outbox rows: created once per (run, destination), claimed by one exporter at a time,
and moved through pending → sent → confirmed (or failed) as the export proceeds.

Every id a row carries is chosen when the row is created and never changed. Ids lse
draws (LangSmith UUIDv7s, a dataset's export key) are copied from a row of the same
target kind at another destination when one exists, so rotating a key or moving a host
re-addresses the same remote objects instead of creating a second copy of each.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lse.store.engine import unit_of_work
from lse.store.models.evaluation import utcnow
from lse.store.models.tracing import (
    TracingDataset,
    TracingDatasetItem,
    TracingExport,
    TracingExportItem,
)
from lse.tracing import ids
from lse.tracing.run_data import DatasetView, RunView
from lse.tracing.targets import Target

BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0


def backoff_s(attempts: int) -> float:
    return min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S)


def _sibling_items(session: Session, run_id: int, target: str, destination: str) -> dict[int, TracingExportItem]:
    rows = session.scalars(
        select(TracingExportItem)
        .join(TracingExport, TracingExport.id == TracingExportItem.export_id)
        .where(
            TracingExport.run_id == run_id,
            TracingExport.target == target,
            TracingExport.destination != destination,
        )
        .order_by(TracingExportItem.id)
    )
    out: dict[int, TracingExportItem] = {}
    for row in rows:
        out.setdefault(row.item_id, row)
    return out


def _new_export(run: RunView, target: Target) -> TracingExport:
    row = TracingExport(
        run_id=run.id,
        target=target.name,
        destination=target.destination,
        experiment_name=ids.remote_experiment_name(run.organization, run.project, run.run_name, run.trace_seed),
        score_timestamp=run.completed_at or utcnow(),
        state="pending",
        attempts=0,
    )
    if target.name == "langfuse":
        row.experiment_id = ids.experiment_id(run.trace_seed)
        row.summary_score_id = ids.summary_score_id(row.experiment_id)
    return row


def ensure_run_export(session: Session, run: RunView, target: Target) -> TracingExport:
    """The run's export row at the target's destination with one item row per item."""
    query = select(TracingExport).where(TracingExport.run_id == run.id, TracingExport.destination == target.destination)
    export = session.scalar(query)
    if export is None:
        try:
            with session.begin_nested():
                export = _new_export(run, target)
                session.add(export)
        except IntegrityError:  # another process created it first: use theirs
            export = session.scalar(query)
        assert export is not None
    have = set(session.scalars(select(TracingExportItem.item_id).where(TracingExportItem.export_id == export.id)))
    missing = [v for v in run.items if v.status != "pending" and v.item.item_id not in have]
    if missing:
        siblings = _sibling_items(session, run.id, target.name, target.destination)
        try:
            with session.begin_nested():
                for view in missing:
                    sib = siblings.get(view.item.item_id)
                    if target.name == "langfuse":
                        trace_id = ids.item_trace_id(run.trace_seed, view.item.item_id)
                        score_id = ids.item_score_id(trace_id) if view.scored else None
                    else:
                        trace_id = sib.remote_trace_id if sib else ids.new_uuid7()
                        score_id = (sib.remote_score_id if sib else None) or (ids.new_uuid7() if view.scored else None)
                    session.add(
                        TracingExportItem(
                            export_id=export.id,
                            run_id=run.id,
                            item_id=view.item.item_id,
                            remote_trace_id=trace_id,
                            remote_score_id=score_id if view.scored else None,
                            state="pending",
                            trace_confirmed=False,
                            score_confirmed=not view.scored,
                            remote_copies=0,
                            attempts=0,
                        )
                    )
        except IntegrityError:  # a concurrent creator added them: theirs stand
            pass
    return export


def ensure_dataset_export(session: Session, dataset: DatasetView, target: Target) -> TracingDataset:
    """The dataset's row at the target's destination with one row per item (remote ids fixed)."""
    query = select(TracingDataset).where(
        TracingDataset.dataset_id == dataset.id, TracingDataset.destination == target.destination
    )
    row = session.scalar(query)
    if row is None:
        sibling = session.scalar(
            select(TracingDataset)
            .where(TracingDataset.dataset_id == dataset.id, TracingDataset.target == target.name)
            .order_by(TracingDataset.id)
        )
        try:
            with session.begin_nested():
                row = TracingDataset(
                    dataset_id=dataset.id,
                    target=target.name,
                    destination=target.destination,
                    remote_name=ids.remote_dataset_name(dataset.organization, dataset.project, dataset.name),
                    export_key=sibling.export_key if sibling else str(uuid.uuid4()),
                    state="pending",
                    attempts=0,
                )
                session.add(row)
        except IntegrityError:
            row = session.scalar(query)
        assert row is not None
    have = set(
        session.scalars(select(TracingDatasetItem.item_id).where(TracingDatasetItem.tracing_dataset_id == row.id))
    )
    missing = [i for i in dataset.items if i.item_id not in have]
    if missing:
        siblings: dict[int, str] = {}
        if target.name == "langsmith":
            for item_id, remote in session.execute(
                select(TracingDatasetItem.item_id, TracingDatasetItem.remote_id)
                .join(TracingDataset, TracingDataset.id == TracingDatasetItem.tracing_dataset_id)
                .where(TracingDataset.dataset_id == dataset.id, TracingDataset.target == target.name)
            ):
                siblings.setdefault(item_id, remote)
        try:
            with session.begin_nested():
                for item in missing:
                    remote_id = (
                        ids.dataset_item_id(row.export_key, item.item_id)
                        if target.name == "langfuse"
                        else siblings.get(item.item_id) or ids.new_uuid7()
                    )
                    session.add(
                        TracingDatasetItem(
                            tracing_dataset_id=row.id,
                            item_id=item.item_id,
                            remote_id=remote_id,
                            state="pending",
                            attempts=0,
                        )
                    )
        except IntegrityError:
            pass
    return row


# ---- leases -----------------------------------------------------------------------------


def claim(engine: Engine, export_id: int, owner: str, lease_s: float, now: datetime) -> bool:
    """Take the export for `lease_s` seconds; False when another live exporter holds it."""
    with unit_of_work(engine) as session:
        result = session.execute(
            update(TracingExport)
            .where(
                TracingExport.id == export_id,
                or_(
                    TracingExport.lease_until.is_(None),
                    TracingExport.lease_until < now,
                    TracingExport.lease_owner == owner,
                ),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s))
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def release(engine: Engine, export_id: int, owner: str) -> None:
    with unit_of_work(engine) as session:
        session.execute(
            update(TracingExport)
            .where(TracingExport.id == export_id, TracingExport.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


# ---- bookkeeping ------------------------------------------------------------------------


def record_failure(
    engine: Engine, export_id: int, message: str, *, permanent: bool, max_attempts: int, now: datetime
) -> str:
    """Count a failed attempt; the export (and its unfinished items) fail for good when the
    error is permanent or the attempts are spent. Returns the new state."""
    with unit_of_work(engine) as session:
        export = session.get(TracingExport, export_id)
        if export is None:
            return "failed"
        export.attempts += 1
        export.last_error = message[:2000]
        if permanent or export.attempts >= max_attempts:
            export.state = "failed"
            export.next_attempt_at = None
            session.execute(
                update(TracingExportItem)
                .where(TracingExportItem.export_id == export_id, TracingExportItem.state != "confirmed")
                .values(state="failed", last_error=message[:2000])
            )
        else:
            export.next_attempt_at = now + timedelta(seconds=backoff_s(export.attempts))
        return export.state


def reopen(engine: Engine, export_id: int) -> None:
    """An explicit export or repair: failed rows get a fresh set of attempts."""
    with unit_of_work(engine) as session:
        export = session.get(TracingExport, export_id)
        if export is None:
            return
        if export.state == "failed":
            export.state = "pending"
        export.attempts = 0
        export.next_attempt_at = None
        session.execute(
            update(TracingExportItem)
            .where(TracingExportItem.export_id == export_id, TracingExportItem.state == "failed")
            .values(state="pending", attempts=0)
        )


def due_exports(session: Session, now: datetime, *, limit: int = 50) -> list[tuple[int, int, str]]:
    """(export id, run id, destination) of unfinished exports whose next attempt is due."""
    rows = session.execute(
        select(TracingExport.id, TracingExport.run_id, TracingExport.destination)
        .where(
            TracingExport.state.in_(("pending", "sent")),
            or_(TracingExport.next_attempt_at.is_(None), TracingExport.next_attempt_at <= now),
            or_(TracingExport.lease_until.is_(None), TracingExport.lease_until < now),
        )
        .order_by(TracingExport.next_attempt_at.is_not(None), TracingExport.next_attempt_at, TracingExport.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def item_counts(session: Session, run_id: int, destination: str) -> dict[str, int] | None:
    """{state: count} of the run's items at a destination, None when nothing was queued."""
    rows = session.execute(
        select(TracingExportItem.state, func.count())
        .join(TracingExport, TracingExport.id == TracingExportItem.export_id)
        .where(and_(TracingExport.run_id == run_id, TracingExport.destination == destination))
        .group_by(TracingExportItem.state)
    ).all()
    if (
        not rows
        and session.scalar(
            select(TracingExport.id).where(TracingExport.run_id == run_id, TracingExport.destination == destination)
        )
        is None
    ):
        return None
    return {str(r[0]): int(r[1]) for r in rows}
