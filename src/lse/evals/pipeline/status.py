"""The small vocabularies of an evaluation run, as enums that persist as their string values
(the database CHECK constraints list the same strings)."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"  # a user's cancel: neither a success nor a failure

    @property
    def finished(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


class ItemStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ScoreStatus(StrEnum):
    SCORED = "scored"
    NOT_SCORED = "not_scored"


class StageJob(StrEnum):
    """`evaluation_jobs.job_type`: a stage's row, written after its unit, means "done, skip it"."""

    FAST_RESPONSES = "evaluation_fast"
    FAST_EMBEDDINGS = "embedding_fast"
    BATCH_RESPONSES = "evaluation_batch"
    BATCH_EMBEDDINGS = "embedding_batch"  # the batch run's embeddings (made synchronously)
