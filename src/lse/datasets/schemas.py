"""What a dataset looks like to a client (Kaapi's `DatasetUploadResponse`, plus lse's fields)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lse.schema_types import UtcDatetime


class DatasetPublic(BaseModel):
    dataset_id: int
    dataset_name: str = Field(description="The name as stored: sanitised as Kaapi does ([a-z0-9_]).")
    description: str | None
    total_items: int
    original_items: int = Field(description="Unique questions (CSV rows kept), before duplication.")
    duplication_factor: int
    skipped_rows: int | None = Field(
        default=None, description="CSV rows skipped for an empty question or answer (upload only)."
    )
    eligible_for_fast: bool = Field(
        description="True if the dataset's unique questions are at or below the fast-mode "
        "limit (LSE_EVAL_FAST_MAX_UNIQUE_ROWS)."
    )
    langfuse_dataset_id: str | None = Field(
        default=None, description="The dataset's id in Langfuse once it is exported there; null until then."
    )
    object_store_url: str | None = Field(
        description="Where the uploaded CSV is kept, when the client can reach it (s3://…); "
        "null for lse's local store, whose paths are the server's business."
    )
    signed_url: str | None = Field(
        default=None,
        description="With include_signed_url=true: a short-lived URL to download the uploaded CSV "
        "(presigned S3, or a signed lse download URL for the local store).",
    )
    inserted_at: UtcDatetime


class DatasetDeleted(DatasetPublic):
    message: str = Field(description="Kaapi's confirmation sentence.")
