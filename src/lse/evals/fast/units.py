"""The stage units written to object storage: self-describing, one object per finished stage.

A unit carries `format_version`, its status, counts and usage, so a reader (or `verify`)
needs nothing else to know what it holds.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

FORMAT_VERSION = 1


def responses_unit_key(run_id: int) -> str:
    return f"fast-eval/runs/{run_id}/evaluation_fast.json"


def embeddings_unit_key(run_id: int) -> str:
    return f"fast-eval/runs/{run_id}/embedding_fast.json"


class ResponsesItem(BaseModel):
    item_id: int
    status: str
    output: str | None = None
    error: str | None = None
    error_code: str | None = None
    usage: dict[str, int]
    latency_ms: float | None = None
    attempts: int = 0
    response_id: str | None = None


class ResponsesUnit(BaseModel):
    format_version: int = FORMAT_VERSION
    kind: str = "evaluation_fast"
    run_id: int
    status: str  # completed
    model: str | None
    params: dict[str, Any]
    total_items: int
    succeeded: int
    failed: int
    usage: dict[str, int]
    cost: dict[str, Any]
    items: list[ResponsesItem]


class EmbeddingsItem(BaseModel):
    item_id: int
    score: float | None
    score_status: str
    reason: str | None = None


class EmbeddingsUnit(BaseModel):
    format_version: int = FORMAT_VERSION
    kind: str = "embedding_fast"
    run_id: int
    status: str
    model: str
    requests: int
    batches: int
    inputs_embedded: int
    cache_hits: int
    scored: int
    not_scored: int
    usage: dict[str, int]
    cost: dict[str, Any]
    summary: dict[str, Any]
    items: list[EmbeddingsItem]
