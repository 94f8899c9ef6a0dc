"""OpenAI Files and Batches through the official SDK: upload, create, find, retrieve, cancel, download.

Every SDK exception is translated where it enters (`ProviderCallError` with the SDK object as
`__cause__`, so `providers.retry_rules.classify` judges it). A batch comes back as `BatchInfo`, a
plain snapshot of what the provider said, never the SDK object. The two `find_*` functions
are how a lost answer is recovered: a file by its name, a batch by the client key in its
metadata, scanning newest first and stopping once the listing is older than `since`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal, cast

import openai

from lse.providers.errors import translate

BATCH_TIMESTAMPS = (
    "in_progress_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)
KEY_FIELD = "lse_key"
LIST_PAGE = 100  # the Batches API's maximum page
DOWNLOAD_CHUNK = 1 << 20

BatchEndpoint = Literal["/v1/responses", "/v1/embeddings"]


@dataclass(frozen=True)
class BatchInfo:
    id: str
    status: str
    endpoint: str
    input_file_id: str
    created_at: int
    expires_at: int | None
    output_file_id: str | None
    error_file_id: str | None
    request_counts: dict[str, int] | None
    usage: dict[str, Any] | None
    errors: list[dict[str, Any]] | None
    metadata: dict[str, str] | None
    model: str | None
    timestamps: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_sdk(cls, batch: Any) -> BatchInfo:
        data: dict[str, Any] = batch.model_dump(mode="json") if hasattr(batch, "model_dump") else dict(batch)
        errors = data.get("errors") or {}
        return cls(
            id=data["id"],
            status=data["status"],
            endpoint=data.get("endpoint") or "",
            input_file_id=data.get("input_file_id") or "",
            created_at=int(data.get("created_at") or 0),
            expires_at=data.get("expires_at"),
            output_file_id=data.get("output_file_id"),
            error_file_id=data.get("error_file_id"),
            request_counts=data.get("request_counts"),
            usage=data.get("usage"),
            errors=errors.get("data") if isinstance(errors, dict) else None,
            metadata=data.get("metadata"),
            model=data.get("model"),
            timestamps={k: int(data[k]) for k in BATCH_TIMESTAMPS if data.get(k) is not None},
        )


def upload_batch_file(client: openai.OpenAI, filename: str, content: IO[bytes] | bytes) -> str:
    """Upload a JSONL request file (purpose `batch`); the provider's file id."""
    try:
        return client.files.create(file=(filename, content, "application/jsonl"), purpose="batch").id
    except Exception as exc:
        raise translate(exc, what="files.create") from exc


def find_batch_file(client: openai.OpenAI, filename: str, *, since: int) -> str | None:
    """The id of a batch file called `filename` uploaded at or after `since` (unix seconds), if any."""
    try:
        for f in client.files.list(purpose="batch", order="desc"):
            if f.created_at < since:
                return None
            if f.filename == filename:
                return f.id
    except Exception as exc:
        raise translate(exc, what="files.list") from exc
    return None


def create_batch(
    client: openai.OpenAI, *, input_file_id: str, endpoint: BatchEndpoint, metadata: dict[str, str]
) -> BatchInfo:
    try:
        batch = client.batches.create(
            input_file_id=input_file_id, endpoint=endpoint, completion_window="24h", metadata=metadata
        )
    except Exception as exc:
        raise translate(exc, what="batches.create") from exc
    return BatchInfo.from_sdk(batch)


def find_batch_by_key(client: openai.OpenAI, key: str, *, since: int) -> BatchInfo | None:
    """The batch whose metadata carries `lse_key == key`, created at or after `since`, if any."""
    try:
        for batch in client.batches.list(limit=LIST_PAGE):
            if batch.created_at < since:
                return None
            if (batch.metadata or {}).get(KEY_FIELD) == key:
                return BatchInfo.from_sdk(batch)
    except Exception as exc:
        raise translate(exc, what="batches.list") from exc
    return None


def retrieve_batch(client: openai.OpenAI, batch_id: str) -> BatchInfo:
    try:
        return BatchInfo.from_sdk(client.batches.retrieve(batch_id))
    except Exception as exc:
        raise translate(exc, what="batches.retrieve") from exc


def cancel_batch(client: openai.OpenAI, batch_id: str) -> BatchInfo:
    try:
        return BatchInfo.from_sdk(client.batches.cancel(batch_id))
    except Exception as exc:
        raise translate(exc, what="batches.cancel") from exc


def download_file(client: openai.OpenAI, file_id: str, sink: Callable[[bytes], object]) -> int:
    """Stream a file's content into `sink` chunk by chunk; the number of bytes."""
    total = 0
    try:
        with client.files.with_streaming_response.content(file_id) as response:
            for chunk in cast(Any, response).iter_bytes(DOWNLOAD_CHUNK):
                sink(chunk)
                total += len(chunk)
    except Exception as exc:
        raise translate(exc, what="files.content") from exc
    return total
