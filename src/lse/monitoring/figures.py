"""The figures of one recorded fetch: coverage, failure and error rates, performance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


class FetchFigures(BaseModel):
    kind: str
    project: str
    day: date
    status: str
    finished_at: datetime | None
    runs: int
    traces: int
    runs_with_feedback_stats: int
    runs_feedback_fetched: int
    runs_feedback_not_fetched: int
    feedback_records: int
    requests: int
    retries: int
    rate_limited: int
    errors: int
    duration_s: float
    feedback_coverage_rate: float | None  # of runs with feedback_stats, share with records
    feedback_failure_rate: float | None  # of runs with feedback_stats, share not fetched
    api_error_rate: float | None  # (errors + 429s) per request
    seconds_per_1000_runs: float | None
    seconds_per_trace: float | None
    error: str | None = None  # why a failed fetch failed
    run_api: str | None = None  # the runs query API that answered: v2 | v1 (None: not recorded)
    # endpoints LangSmith answered with Deprecation/Sunset headers, by "METHOD /path"
    deprecations: dict[str, dict[str, Any]] = {}

    @property
    def seconds_per_run(self) -> float | None:
        return self.duration_s / self.runs if self.runs else None

    @property
    def validation_passed(self) -> bool:
        return self.runs_with_feedback_stats == self.runs_feedback_fetched


def figures_of(record: Any) -> FetchFigures:
    counts: dict[str, Any] = dict(record.counts or {})
    runs = int(counts.get("runs", 0))
    traces = int(counts.get("traces", 0))
    with_stats = int(counts.get("runs_with_feedback_stats", 0))
    fetched = int(counts.get("runs_feedback_fetched", 0))
    not_fetched = int(counts.get("runs_feedback_not_fetched", 0))
    requests = int(record.requests or 0)
    duration = float(record.duration_s or 0.0)
    details: dict[str, Any] = dict(record.details or {})
    return FetchFigures(
        kind=record.kind,
        project=record.project,
        day=record.day,
        status=record.status,
        finished_at=record.finished_at,
        runs=runs,
        traces=traces,
        runs_with_feedback_stats=with_stats,
        runs_feedback_fetched=fetched,
        runs_feedback_not_fetched=not_fetched,
        feedback_records=int(counts.get("feedback_records", 0)),
        requests=requests,
        retries=int(record.retries or 0),
        rate_limited=int(record.rate_limited or 0),
        errors=int(record.errors or 0),
        duration_s=duration,
        feedback_coverage_rate=_ratio(fetched, with_stats),
        feedback_failure_rate=_ratio(not_fetched, with_stats),
        api_error_rate=_ratio(int(record.errors or 0) + int(record.rate_limited or 0), requests),
        seconds_per_1000_runs=round(duration / runs * 1000, 3) if runs else None,
        seconds_per_trace=round(duration / traces, 4) if traces else None,
        error=details.get("error") if record.status == "failed" else None,
        run_api=details.get("run_api"),
        deprecations=dict(details.get("deprecations") or {}),
    )
