"""Role-named pydantic models of the evaluation service: what comes in (`*Create`) and
what goes out (`*Public`). Shared by the REST API (as its OpenAPI schema), the CLI's
`--json` output and the fast-mode engine, so all three speak the same field names —
Kaapi's (`dataset_id`, `run_mode`, `config_blob`, `inserted_at`, ...).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lse.schema_types import MAX_ID, Input, UtcDatetime

NAME = Field(min_length=1, max_length=255)


def _strip_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# --- configs ---------------------------------------------------------------------------


class CompletionParams(BaseModel):
    """The provider's params; which keys are allowed and what they mean is
    `lse.providers.params` (checked by the config service, which knows the deployment)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=255)
    instructions: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_output_tokens: int | None = Field(default=None, ge=1)


class CompletionConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    provider: str = Field(min_length=1, max_length=64, examples=["openai"])
    type: str = Field(default="text", min_length=1, max_length=32, examples=["text"])
    params: CompletionParams


class ConfigBlob(BaseModel):
    model_config = ConfigDict(extra="allow")

    completion: CompletionConfig


class ConfigCreate(Input):
    name: str = NAME
    description: str | None = Field(default=None, max_length=2000)
    commit_message: str | None = Field(default=None, max_length=2000)
    config_blob: ConfigBlob

    _name = field_validator("name")(_strip_name)


class ConfigVersionCreate(Input):
    """A new version: a whole blob, or only the keys that change (Kaapi's partial body):
    `completion.provider` and `completion.type` are inherited from the latest version and
    `completion.params` is merged into its params (a key set to null is removed)."""

    commit_message: str | None = Field(default=None, max_length=2000)
    config_blob: dict[str, Any] = Field(min_length=1)


class ConfigUpdate(Input):
    """PATCH /configs/{id}: the config's name or description (params change by new versions)."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)

    _name = field_validator("name")(lambda v: None if v is None else _strip_name(v))


class ConfigVersionItem(BaseModel):
    """A version in a list: without its blob (Kaapi's `ConfigVersionItems`)."""

    id: str = Field(description="The version's UUID.")
    config_id: str
    version: int
    commit_message: str | None
    inserted_at: UtcDatetime
    updated_at: UtcDatetime


class ConfigVersionPublic(ConfigVersionItem):
    config_blob: dict[str, Any]


class ConfigPublic(BaseModel):
    id: str
    name: str
    description: str | None
    organization_id: int
    project_id: int
    latest_version: int
    inserted_at: UtcDatetime
    updated_at: UtcDatetime


class ConfigWithVersion(ConfigPublic):
    version: ConfigVersionPublic


class Message(BaseModel):
    message: str


# --- runs ------------------------------------------------------------------------------


class RunMode(StrEnum):
    batch = "batch"
    fast = "fast"


class RunCreate(Input):
    experiment_name: str = NAME
    dataset_id: int = Field(ge=1, le=MAX_ID)
    config_id: uuid.UUID
    config_version: int = Field(ge=1, le=MAX_ID)
    run_mode: RunMode = RunMode.batch

    _name = field_validator("experiment_name")(_strip_name)


class Progress(BaseModel):
    total: int
    succeeded: int
    failed: int
    done: int


class ItemResultPublic(BaseModel):
    item_id: int
    position: int
    question_id: int
    duplicate_index: int
    question: str
    expected_answer: str
    category: str | None
    status: str = Field(description="succeeded, failed, or pending while the run has no result for it")
    output: str | None = None
    score: float | None = None
    score_status: str | None = None
    error: str | None = None
    error_code: str | None = None
    input_tokens: int | None = None
    cached_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    latency_ms: float | None = None
    attempts: int | None = None
    response_id: str | None = None


class RunPublic(BaseModel):
    id: int
    run_name: str
    run_mode: str
    status: str
    dataset_id: int
    dataset_name: str
    config_id: str
    config_version: int
    total_items: int
    organization_id: int
    project_id: int
    progress: Progress
    score: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    error_message: str | None = None
    batch_job_id: int | None = Field(default=None, description="Kaapi's; null for fast runs.")
    embedding_batch_job_id: int | None = Field(default=None, description="Kaapi's; null for fast runs.")
    object_store_url: str | None = Field(
        default=None, description="Where processed results are kept, when a client can reach it; null otherwise."
    )
    score_trace_url: str | None = Field(default=None, description="Kaapi's; traces are served inline, so null.")
    unscoreable: dict[str, str] | None = Field(
        default=None, description="trace_id → why the item could not be scored (Kaapi's map)."
    )
    is_score_updated: bool | None = Field(default=None, description="Kaapi's Langfuse sync flag; null here.")
    cancel_requested_at: UtcDatetime | None = Field(
        default=None, description="When a user asked to cancel the run (it ends `cancelled` once stopped)."
    )
    inserted_at: UtcDatetime
    updated_at: UtcDatetime
    started_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None


class BatchPublic(BaseModel):
    """One provider batch of a batch run, as lse last saw it."""

    id: int = Field(description="lse's id of the batch (its row).")
    stage: str
    round: int = Field(description="1 for the first send; items left over go in later rounds.")
    part: int = Field(description="A round's request files, split by the provider's limits.")
    state: str = Field(description="prepared, uploaded, submitted, terminal, collected or abandoned.")
    provider_status: str | None = None
    provider_batch_id: str | None = None
    n_requests: int
    request_counts: dict[str, Any] | None = None
    expires_at: UtcDatetime | None = None
    submitted_at: UtcDatetime | None = None
    terminal_at: UtcDatetime | None = None
    collected_at: UtcDatetime | None = None
    cancel_requested_at: UtcDatetime | None = None
    next_poll_at: UtcDatetime | None = None
    poll_failures: int = 0
    last_poll_error: str | None = None
    outcome: str | None = Field(default=None, description="Why it was abandoned or given up, in words.")
    anomalies: list[dict[str, Any]] = Field(default_factory=list)


class RunDetail(RunPublic):
    results: list[ItemResultPublic] | None = None
    batches: list[BatchPublic] | None = Field(default=None, description="Batch runs: every provider batch.")
    tracing: dict[str, dict[str, Any] | None] | None = Field(
        default=None,
        description="Export status per target ({exported, pending, failed, state, last_error}); "
        "null for a target not configured for the run's project.",
    )
