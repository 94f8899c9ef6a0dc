"""Provider batches of batch-mode evaluation runs, and the requests inside each.

A row in `evaluation_batches` is one provider batch (one JSONL request file, one
`batches.create`), written before anything is sent and updated after every remote step,
so every id the provider gave us is on disk before the next call (see
docs/batch-evaluation.md). `evaluation_batch_requests` maps each line of the request file
(`line_no`, 1-based as the provider reports it, and `custom_id`) back to its dataset item,
and after collecting holds that request's outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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

from lse.store.base import Base, JSONDoc
from lse.store.models.evaluation import utcnow

__all__ = [
    "BATCH_STAGES",
    "BATCH_STATES",
    "REQUEST_OUTCOMES",
    "EvaluationBatch",
    "EvaluationBatchRequest",
]

BATCH_STAGES = ("responses", "embeddings")
# prepared: request file stored, rows written; uploaded: provider file id stored;
# submitted: provider batch id stored; terminal: the provider's final status seen;
# collected: every request has its outcome; abandoned: given up before the provider ran it.
BATCH_STATES = ("prepared", "uploaded", "submitted", "terminal", "collected", "abandoned")
# retry: goes to the next round; not_executed: the provider never ran it (expired, cancelled);
# missing: in neither result file.
REQUEST_OUTCOMES = ("succeeded", "failed", "retry", "not_executed", "missing")

Timestamp = DateTime(timezone=True)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EvaluationBatch(Base):
    __tablename__ = "evaluation_batches"
    __table_args__ = (
        UniqueConstraint("run_id", "stage", "round", "part"),
        UniqueConstraint("client_key"),
        UniqueConstraint("provider_batch_id"),
        CheckConstraint(_in("stage", BATCH_STAGES), name="stage"),
        CheckConstraint(_in("state", BATCH_STATES), name="state"),
        Index("ix_evaluation_batches_state_next_poll_at", "state", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer)  # 1, 2, ... (items left over go to the next round)
    part: Mapped[int] = mapped_column(Integer)  # a round's request files, split by provider limits
    # Ours, sent as metadata["lse_key"]: how a batch whose create answer was lost is found again.
    client_key: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="prepared")
    provider_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The request file as sent (object store), its fingerprint and size.
    request_key: Mapped[str] = mapped_column(String(1024))
    request_url: Mapped[str] = mapped_column(String(1024))
    request_sha256: Mapped[str] = mapped_column(String(64))
    request_bytes: Mapped[int] = mapped_column(BigInteger)
    n_requests: Mapped[int] = mapped_column(Integer)
    est_input_tokens: Mapped[int] = mapped_column(BigInteger)
    # The provider's ids.
    input_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    provider_batch_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    output_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Raw copies of the result files (the provider deletes its own after 30 days).
    output_key: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    output_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    error_key: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    error_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    # What the provider said, as it said it.
    request_counts: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    errors: Mapped[list[Any] | None] = mapped_column(JSONDoc, nullable=True)
    # What did not add up (counts, usage, unknown or duplicate custom_ids, a vanished batch).
    anomalies: Mapped[list[Any]] = mapped_column(JSONDoc, default=list)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)  # why terminal/abandoned, in words
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    upload_attempted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    uploaded_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    create_attempted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    terminal_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    collected_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    # Polling: when next, how many failures in a row, the last one; who holds the row.
    next_poll_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    poll_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_poll_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class EvaluationBatchRequest(Base):
    __tablename__ = "evaluation_batch_requests"
    __table_args__ = (
        UniqueConstraint("batch_id", "line_no"),
        UniqueConstraint("batch_id", "custom_id"),
        CheckConstraint(_in("outcome", REQUEST_OUTCOMES), name="outcome"),
        Index("ix_evaluation_batch_requests_item_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("evaluation_batches.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    custom_id: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[int] = mapped_column(ForeignKey("evaluation_dataset_items.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)  # the round it was sent in
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)  # what this line was billed
    response_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
