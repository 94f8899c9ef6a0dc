"""Archive tables: runs, feedback and fetch records (docs/storage.md).

`runs.data` holds the stored run exactly as archived (feedback_stats untouched,
feedback_records merged by the record merge rule); the columns beside it are copies
for indexing. `feedback` is the same records one row each, so questions about
verdicts and rationale are indexed queries rather than scans of run documents.
Rows are never deleted by a load: the archive exists to survive upstream loss.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Float, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from lse.store.base import Base, JSONDoc

# BIGINT identity on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

__all__ = ["DayFiguresRow", "FeedbackRow", "FetchRecordRow", "RunRow"]


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String, unique=True)
    trace_id: Mapped[str | None] = mapped_column(String, index=True)
    parent_run_id: Mapped[str | None] = mapped_column(String)
    project: Mapped[str] = mapped_column(String)
    run_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback_status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    # ENCODING from lse.store.stored_form when some string/float in `data` is escaped.
    data_encoding: Mapped[str | None] = mapped_column(String(16))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_runs_project_run_date", "project", "run_date"),)


# Containment on the run's attributes, `lse_run_attributes(data) @> …`: a function
# created by migration 0003, which says what it leaves out of the index and why.
Index(
    "ix_runs_attributes_gin",
    func.lse_run_attributes(RunRow.data).label("attributes"),
    postgresql_using="gin",
    postgresql_ops={"attributes": "jsonb_path_ops"},
).ddl_if(dialect="postgresql")


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    feedback_id: Mapped[str] = mapped_column(String, unique=True)
    run_id: Mapped[str] = mapped_column(String, index=True)
    trace_id: Mapped[str | None] = mapped_column(String)
    project: Mapped[str] = mapped_column(String)
    run_date: Mapped[date] = mapped_column(Date)  # the run's project-day
    key: Mapped[str | None] = mapped_column(String)
    score: Mapped[float | None] = mapped_column(Float)
    value: Mapped[Any | None] = mapped_column(JSONDoc)
    comment: Mapped[str | None] = mapped_column(Text)
    correction: Mapped[Any | None] = mapped_column(JSONDoc)
    source: Mapped[Any | None] = mapped_column(JSONDoc)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    modified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    encoding: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_feedback_project_created_at", "project", "created_at"),
        Index("ix_feedback_project_run_date", "project", "run_date"),
        Index(
            "ix_feedback_value_gin",
            "value",
            postgresql_using="gin",
            postgresql_ops={"value": "jsonb_path_ops"},
        ).ddl_if(dialect="postgresql"),
    )


class FetchRecordRow(Base):
    """One fetch, refetch or load of a project-day: what its manifest says, for monitoring."""

    __tablename__ = "fetch_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    project: Mapped[str] = mapped_column(String)
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    tool_version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc)

    __table_args__ = (
        Index("ix_fetch_records_project_day", "project", "day"),
        Index("ix_fetch_records_started_at", "started_at"),
    )


class DayFiguresRow(Base):
    """A project-day's figures as its rows say them (`lse.store.day_figures`, which keeps
    them exact). No row: not known yet, counted from the rows when read."""

    __tablename__ = "day_figures"

    project: Mapped[str] = mapped_column(String, primary_key=True)
    run_date: Mapped[date] = mapped_column(Date, primary_key=True)
    runs: Mapped[int] = mapped_column(Integer)
    traces: Mapped[int] = mapped_column(Integer)  # root runs
    feedback_status: Mapped[dict[str, Any]] = mapped_column(JSONDoc)  # status -> runs
    feedback_records: Mapped[int] = mapped_column(Integer)
    runs_with_feedback: Mapped[int] = mapped_column(Integer)
    verdicts: Mapped[dict[str, Any]] = mapped_column(JSONDoc)  # verdict (stored form) -> records
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONDoc)  # verdict -> criterion -> records with it true
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
