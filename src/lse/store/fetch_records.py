"""Fetch records: one row per fetch, refetch or load of a project-day, for monitoring.

A manifest describes the latest state of one day's files; fetch records keep the
history (every attempt, its counters and outcome) in the database where monitoring
can aggregate it. The fetch service calls `record` after each fetch; `to-db` records
a kind="load" row. `details` carries what monitoring reads beyond the counters: which
runs query API answered (`run_api`) and the deprecated endpoints seen (`deprecations`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from lse import __version__
from lse.archive.manifest import Manifest
from lse.store.engine import unit_of_work
from lse.store.models.archive import FetchRecordRow
from lse.store.stored_form import decode_stored, encode_value

FetchKind = Literal["fetch", "refetch_day", "refetch", "load"]


class FetchRecord(BaseModel):
    id: int | None = None
    kind: FetchKind
    project: str
    day: date
    status: str = Field(description="complete | incomplete | partial | failed")
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
    def from_manifest(cls, manifest: Manifest, kind: FetchKind = "fetch") -> FetchRecord:
        """The record of the fetch a manifest describes (its `fetched_at` is the end)."""
        finished = _utc(manifest.fetched_at)
        return cls(
            kind=kind,
            project=manifest.project,
            day=manifest.date,
            status=manifest.status,
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
        kind=rec.kind,
        project=rec.project,
        day=rec.day,
        status=rec.status,
        counts=rec.counts,
        requests=rec.requests,
        retries=rec.retries,
        rate_limited=rec.rate_limited,
        errors=rec.errors,
        duration_s=rec.duration_s,
        tool_version=rec.tool_version,
        started_at=_utc(rec.started_at),
        finished_at=_utc(rec.finished_at) if rec.finished_at else None,
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
        kind=row.kind,  # type: ignore[arg-type]
        project=row.project,
        day=row.day,
        status=row.status,
        counts=row.counts or {},
        requests=row.requests,
        retries=row.retries,
        rate_limited=row.rate_limited,
        errors=row.errors,
        duration_s=row.duration_s,
        tool_version=row.tool_version,
        started_at=_utc(row.started_at),
        finished_at=_utc(row.finished_at) if row.finished_at else None,
        details=decode_stored(row.details or {}),
    )


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
