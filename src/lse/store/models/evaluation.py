"""Evaluation tables: tenancy, configs, datasets, runs, jobs, item results.

Every dataset, config and run carries (organization_id, project_id): tenancy is a
column on the row, so every query filters by it and one tenant can never address
another's objects. Names are unique per project by database constraints, not by
check-then-insert, so two simultaneous requests cannot both win. Allowed values of the
small enumerations (run_mode, statuses) are CHECK constraints, so no code path can
persist a value the engine does not understand.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from lse.store.base import Base, JSONDoc

__all__ = [
    "RUN_MODES",
    "RUN_NAME_CONSTRAINT",
    "RUN_STATUSES",
    "ApiKey",
    "Config",
    "ConfigVersion",
    "EvaluationDataset",
    "EvaluationDatasetItem",
    "EvaluationItemResult",
    "EvaluationJob",
    "EvaluationRun",
    "Organization",
    "Project",
    "ProviderCredential",
    "utcnow",
]

RUN_MODES = ("batch", "fast")
RUN_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
ITEM_STATUSES = ("succeeded", "failed")
SCORE_STATUSES = ("scored", "not_scored")
# The constraint the API turns into 409 run_name_already_exists (and nothing else).
RUN_NAME_CONSTRAINT = "uq_evaluation_runs_organization_id_project_id_run_name"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


Timestamp = DateTime(timezone=True)


# --- tenancy ---------------------------------------------------------------------------


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class ApiKey(Base):
    """Only sha256(secret) is stored; `key_prefix` lets a human tell keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key_prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    # Refreshed at most once a minute per key (tenancy.keys.TOUCH_EVERY_S), not per request.
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class ProviderCredential(Base):
    """A project's own provider keys (OpenAI, Langfuse), Fernet-encrypted with LSE_SECRET_KEY.

    `secret` is the token of the JSON object of credential fields; nothing else holds
    them in clear, and the API only ever shows them masked.
    """

    __tablename__ = "provider_credentials"
    __table_args__ = (UniqueConstraint("organization_id", "project_id", "provider"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


# --- configs ---------------------------------------------------------------------------


class Config(Base):
    __tablename__ = "configs"
    __table_args__ = (UniqueConstraint("organization_id", "project_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    # Deleted configs are kept (runs still name them) but no longer listed or usable.
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class ConfigVersion(Base):
    """Immutable: a change to a config is a new version, so a run's config_version stays true.

    `public_id` is the version's UUID as clients see it (Kaapi's `id`); a deleted version
    is kept (runs still pin it) and its number is never given again.
    """

    __tablename__ = "config_versions"
    __table_args__ = (
        UniqueConstraint("config_id", "version"),
        Index("uq_config_versions_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str | None] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    config_id: Mapped[str] = mapped_column(ForeignKey("configs.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    config_blob: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    commit_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


# --- datasets --------------------------------------------------------------------------


class EvaluationDataset(Base):
    __tablename__ = "evaluation_datasets"
    __table_args__ = (UniqueConstraint("organization_id", "project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    duplication_factor: Mapped[int] = mapped_column(Integer, default=1)
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    # Unique questions (distinct question_id of the stored items): the fast-eligibility measure.
    original_items: Mapped[int] = mapped_column(Integer, default=0)
    object_store_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    # Filled by the Langfuse export once the dataset exists there.
    langfuse_dataset_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class EvaluationDatasetItem(Base):
    """One evaluated item; the duplicates of one CSV row share `question_id`."""

    __tablename__ = "evaluation_dataset_items"
    __table_args__ = (UniqueConstraint("dataset_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("evaluation_datasets.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(Integer)
    duplicate_index: Mapped[int] = mapped_column(Integer, default=0)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)


# --- runs ------------------------------------------------------------------------------


class EvaluationRun(Base):
    __tablename__ = "evaluation_runs"
    __table_args__ = (
        UniqueConstraint("organization_id", "project_id", "run_name", name=RUN_NAME_CONSTRAINT),
        CheckConstraint(_in("run_mode", RUN_MODES), name="run_mode"),
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        Index("ix_evaluation_runs_dataset_id", "dataset_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    run_name: Mapped[str] = mapped_column(String(255))
    run_mode: Mapped[str] = mapped_column(String(16), default="batch", server_default="batch")
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    dataset_id: Mapped[int] = mapped_column(ForeignKey("evaluation_datasets.id"))
    dataset_name: Mapped[str] = mapped_column(String(255))
    config_id: Mapped[str] = mapped_column(ForeignKey("configs.id"))
    config_version: Mapped[int] = mapped_column(Integer)
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    items_succeeded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    cost: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    # Set by a user's cancel: whoever executes or polls the run stops it and ends it `cancelled`.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    # The root of this run's item trace ids (lse.evals.trace_ids): random once, stored.
    trace_seed: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))


class EvaluationJob(Base):
    """One finished (or running) stage of a run; its presence lets a retry skip the stage."""

    __tablename__ = "evaluation_jobs"
    __table_args__ = (UniqueConstraint("run_id", "job_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"))
    job_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    object_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    cost: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class EvaluationItemResult(Base):
    __tablename__ = "evaluation_item_results"
    __table_args__ = (
        UniqueConstraint("run_id", "item_id"),
        CheckConstraint(_in("status", ITEM_STATUSES), name="status"),
        CheckConstraint(_in("score_status", SCORE_STATUSES), name="score_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("evaluation_dataset_items.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cached_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reasoning_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    response_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    score_status: Mapped[str] = mapped_column(String(16), default="not_scored", server_default="not_scored")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
