"""Fetch records: one row per fetch, refetch or load of a project-day, for monitoring.

A manifest describes the latest state of one day's files; fetch records keep the
history (every attempt, its counters and outcome) in the database where monitoring
can aggregate it. The fetch service calls `record` after each fetch; `to-db` records
a `FetchKind.LOAD` row. `details` carries what monitoring reads beyond the counters: which
runs query API answered (`run_api`) and the deprecated endpoints seen (`deprecations`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from lse import __version__
from lse.archive.manifest import Manifest
from lse.records.timestamps import as_utc
from lse.store.engine import unit_of_work
from lse.store.models.archive import FetchRecordRow
from lse.store.stored_form import decode_stored, encode_value


class FetchKind(StrEnum):
    """What a record is about (stored as these strings)."""

    FETCH = "fetch"  # a day fetched
    REFETCH_DAY = "refetch_day"  # a day fetched by a re-fetch campaign
    REFETCH = "refetch"  # a re-fetch campaign's milestone (its status is a `MilestoneStatus`)
    LOAD = "load"  # a day loaded into the database by to-db


class FetchStatus(StrEnum):
    """How a fetch or load of one day ended (stored as these strings)."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # the day's files hold runs whose feedback was not fetched
    PARTIAL = "partial"  # a load that refused some rows
    FAILED = "failed"  # the fetch failed outright; `details["error"]` says why


class MilestoneStatus(StrEnum):
    """Where a re-fetch campaign stands (the status of a `FetchKind.REFETCH` record)."""

    STARTED = "started"
    DAY_DONE = "day_done"
    COMPLETED = "completed"


class FetchRecord(BaseModel):
    id: int | None = None
    kind: FetchKind
    project: str
    day: date
    status: FetchStatus | MilestoneStatus
    counts: dict[str, int] = Field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    errors: int = 0
    duration_s: float = 0.0
    tool_version: str = __version__
    started_at: datetime
    finished_at: datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_manifest(cls, manifest: Manifest, kind: FetchKind = FetchKind.FETCH) -> FetchRecord:
        """The record of the fetch a manifest describes (its `fetched_at` is the end)."""
        finished = as_utc(manifest.fetched_at)
        return cls(
            kind=kind,
            project=manifest.project,
            day=manifest.date,
            status=FetchStatus(manifest.status),
            counts=manifest.counts.model_dump(),
            requests=manifest.fetch.requests,
            retries=manifest.fetch.retries,
            rate_limited=manifest.fetch.rate_limited,
            errors=manifest.fetch.errors,
            duration_s=manifest.duration_s,
            tool_version=manifest.tool_version,
            started_at=finished - timedelta(seconds=manifest.duration_s),
            finished_at=finished,
            details={
                "by_endpoint": manifest.fetch.by_endpoint,
                "run_api": manifest.run_api,
                "deprecations": {k: v.model_dump() for k, v in manifest.fetch.deprecations.items()},
                "upstream_runs": manifest.upstream_runs,
                "runs_sha256": manifest.runs_sha256,
                "notes": manifest.notes,
            },
        )


def record(engine: Engine, rec: FetchRecord) -> FetchRecord:
    """Store one record; returns it with its id."""
    details, _ = encode_value(rec.details)  # error texts may hold U+0000
    row = FetchRecordRow(
        kind=rec.kind.value,
        project=rec.project,
        day=rec.day,
        status=rec.status.value,
        counts=rec.counts,
        requests=rec.requests,
        retries=rec.retries,
        rate_limited=rec.rate_limited,
        errors=rec.errors,
        duration_s=rec.duration_s,
        tool_version=rec.tool_version,
        started_at=as_utc(rec.started_at),
        finished_at=as_utc(rec.finished_at) if rec.finished_at else None,
        details=details,
    )
    with unit_of_work(engine) as session:
        session.add(row)
        session.flush()
        new_id = row.id
    return rec.model_copy(update={"id": new_id})


def recent(
    engine: Engine,
    project: str | None = None,
    since_day: date | None = None,
    kind: FetchKind | None = None,
    limit: int | None = None,
) -> list[FetchRecord]:
    """Records newest first, optionally for one project, from one day on, of one kind."""
    stmt = select(FetchRecordRow).order_by(FetchRecordRow.started_at.desc(), FetchRecordRow.id.desc())
    if project is not None:
        stmt = stmt.where(FetchRecordRow.project == project)
    if since_day is not None:
        stmt = stmt.where(FetchRecordRow.day >= since_day)
    if kind is not None:
        stmt = stmt.where(FetchRecordRow.kind == kind)
    if limit is not None:
        stmt = stmt.limit(limit)
    with unit_of_work(engine) as session:
        rows = session.scalars(stmt).all()
        return [_to_model(r) for r in rows]


def _to_model(row: FetchRecordRow) -> FetchRecord:
    return FetchRecord(
        id=row.id,
        kind=FetchKind(row.kind),
        project=row.project,
        day=row.day,
        status=_status(row.status),
        counts=row.counts or {},
        requests=row.requests,
        retries=row.retries,
        rate_limited=row.rate_limited,
        errors=row.errors,
        duration_s=row.duration_s,
        tool_version=row.tool_version,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
        details=decode_stored(row.details or {}),
    )


def _status(value: str) -> FetchStatus | MilestoneStatus:
    """The stored string as its enum: a fetch's or load's, else a campaign milestone's."""
    try:
        return FetchStatus(value)
    except ValueError:
        return MilestoneStatus(value)
