"""The manifest of one archived project-day: what was fetched, how, and a hash to verify it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

MANIFEST_FORMAT_VERSION = 1


class DeprecationSeen(BaseModel):
    """An endpoint that answered with `Deprecation`/`Sunset` headers during the fetch."""

    deprecation: str | None = None  # the header as sent, e.g. "true" or "@1769817600"
    sunset: str | None = None  # the header as sent, e.g. "Sun, 31 Jan 2027 00:00:00 GMT"
    responses: int = 0


class FetchCounters(BaseModel):
    """What the LangSmith client did: every request, retry and error counted."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # 429 responses
    errors: int = 0  # failed attempts other than 429 (5xx, timeouts, resets, 4xx)
    by_endpoint: dict[str, int] = Field(default_factory=dict)
    deprecations: dict[str, DeprecationSeen] = Field(
        default_factory=dict, description='Deprecated endpoints that answered, by "METHOD /path".'
    )


class DayCounts(BaseModel):
    runs: int = 0
    traces: int = 0
    runs_with_feedback_stats: int = 0
    runs_feedback_fetched: int = 0
    runs_feedback_not_fetched: int = 0
    runs_feedback_unknown: int = 0
    feedback_records: int = 0


class Manifest(BaseModel):
    format_version: int = MANIFEST_FORMAT_VERSION
    project: str
    date: date
    status: Literal["complete", "incomplete"]
    counts: DayCounts
    fetch: FetchCounters
    upstream_runs: int | None = Field(
        default=None, description="Runs the API returned in the latest fetch (before merging)."
    )
    run_api: Literal["v2", "v1"] | None = Field(
        default=None, description="The runs query API that answered the latest fetch (absent before v2 support)."
    )
    duration_s: float
    tool_version: str
    fetched_at: datetime
    runs_file: str = "runs.jsonl"
    runs_sha256: str
    notes: list[str] = Field(default_factory=list)
