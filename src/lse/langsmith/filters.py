"""LangSmith filter-language expressions the fetch plan needs (quoted, injection-safe)."""

from __future__ import annotations

from datetime import UTC, datetime


def _ts(value: datetime) -> str:
    return '"' + value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + '"'


def _str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def started_between(start: datetime, end: datetime) -> str:
    """Runs whose start_time is in [start, end)."""
    return f"and(gte(start_time, {_ts(start)}), lt(start_time, {_ts(end)}))"


def in_traces_started_from(trace_ids: list[str], start: datetime) -> str:
    """Runs of these traces that started at or after `start` (the day's closure)."""
    ids = ", ".join(_str(t) for t in trace_ids)
    return f"and(in(trace_id, [{ids}]), gte(start_time, {_ts(start)}))"


def run_ids_in(run_ids: list[str]) -> str:
    """Runs with these ids (re-reading a sample without GET /runs/{id}, which is rate-capped)."""
    return f"in(id, [{', '.join(_str(r) for r in run_ids)}])"
