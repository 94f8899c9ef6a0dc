"""The stage units written to object storage: self-describing, one object per finished stage.

A unit carries `format_version`, its status, counts and usage, so a reader (or `verify`)
needs nothing else to know what it holds. The responses unit is the fast mode's; the
embeddings unit (embed + score) is written the same way whichever mode ran the calls.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lse.evals.pipeline.status import StageJob

FORMAT_VERSION = 1


def unit_key(prefix: str, run_id: int, job: StageJob) -> str:
    """`{prefix}/runs/{run}/{job_type}.json`, e.g. fast-eval/runs/7/evaluation_fast.json."""
    return f"{prefix}/runs/{run_id}/{job.value}.json"


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
    kind: str = StageJob.FAST_RESPONSES.value
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
    kind: str = StageJob.FAST_EMBEDDINGS.value
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
