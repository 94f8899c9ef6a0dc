"""Tracing outbox: what of a run or a dataset has been exported to Langfuse or LangSmith.

A run is complete when its own rows are; exporting it is separate work recorded here, one
row per (run, destination) and one per (run, item, destination), with the remote ids lse
chose (stored once, reused on every retry), the state of each object and the last error.
A destination is one target account (host and key fingerprint), so pointing lse at another
Langfuse project exports again instead of claiming the old export. Datasets pushed to a
target have the same pair of tables, so an item keeps its remote id across pushes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lse.store.base import Base
from lse.store.models.evaluation import utcnow

__all__ = [
    "EXPORT_STATES",
    "TRACING_TARGETS",
    "TracingDataset",
    "TracingDatasetItem",
    "TracingExport",
    "TracingExportItem",
]

TRACING_TARGETS = ("langfuse", "langsmith")
# pending: nothing known to be there; sent: handed to the target, not yet seen there;
# confirmed: seen there (or acknowledged by a synchronous write); failed: given up on.
EXPORT_STATES = ("pending", "sent", "confirmed", "failed")

Timestamp = DateTime(timezone=True)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TracingExport(Base):
    """One evaluation run at one destination: the experiment and the run-level score."""

    __tablename__ = "tracing_exports"
    __table_args__ = (
        UniqueConstraint("run_id", "destination"),
        CheckConstraint(_in("target", TRACING_TARGETS), name="target"),
        CheckConstraint(_in("state", EXPORT_STATES), name="state"),
        Index("ix_tracing_exports_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(512))
    # Langfuse experiment (dataset run) id, or LangSmith project (experiment) id.
    experiment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    experiment_name: Mapped[str | None] = mapped_column(String(512), nullable=True)
    summary_score_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Langfuse overwrites a score only when (id, name, day of timestamp) match: stored, re-sent as is.
    score_timestamp: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    first_sent_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class TracingExportItem(Base):
    """One item of a run at one destination: its trace (or run) and its score (or feedback)."""

    __tablename__ = "tracing_export_items"
    __table_args__ = (
        UniqueConstraint("export_id", "item_id"),
        CheckConstraint(_in("state", EXPORT_STATES), name="state"),
        Index("ix_tracing_export_items_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("tracing_exports.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("evaluation_dataset_items.id", ondelete="CASCADE"))
    # Langfuse trace id, or LangSmith run id (a UUIDv7 drawn once).
    remote_trace_id: Mapped[str] = mapped_column(String(64))
    # Langfuse score id, or LangSmith feedback id; None when the item has no score.
    remote_score_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    trace_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    score_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Copies of the trace the target holds when last listed (1 once exported; more is a duplicate).
    remote_copies: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set before the trace leaves (write-ahead): a crash after it means "maybe there".
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class TracingDataset(Base):
    """One golden dataset at one destination."""

    __tablename__ = "tracing_datasets"
    __table_args__ = (
        UniqueConstraint("dataset_id", "destination"),
        CheckConstraint(_in("target", TRACING_TARGETS), name="target"),
        CheckConstraint(_in("state", EXPORT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("evaluation_datasets.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(512))
    remote_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_name: Mapped[str] = mapped_column(String(1024))
    # Random once: the root of this dataset's item ids at the destination.
    export_key: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class TracingDatasetItem(Base):
    """One dataset item at one destination: its remote id and what was last sent."""

    __tablename__ = "tracing_dataset_items"
    __table_args__ = (
        UniqueConstraint("tracing_dataset_id", "item_id"),
        CheckConstraint(_in("state", EXPORT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracing_dataset_id: Mapped[int] = mapped_column(ForeignKey("tracing_datasets.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("evaluation_dataset_items.id", ondelete="CASCADE"))
    remote_id: Mapped[str] = mapped_column(String(64))
    # sha256 of what was last sent; a different hash means the remote copy is stale.
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pushed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
