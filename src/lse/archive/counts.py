"""The figures of a set of stored runs, as the manifest and reports show them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lse.archive.manifest import DayCounts
from lse.records import FeedbackStatus, feedback_status_of


def count_runs(runs: Iterable[dict[str, Any]]) -> DayCounts:
    counts = DayCounts()
    traces: set[str] = set()
    for run in runs:
        counts.runs += 1
        traces.add(str(run.get("trace_id") or run.get("id")))
        status = feedback_status_of(run)
        if run.get("feedback_stats"):
            counts.runs_with_feedback_stats += 1
            if status is FeedbackStatus.FETCHED:
                counts.runs_feedback_fetched += 1
        if status is FeedbackStatus.NOT_FETCHED:
            counts.runs_feedback_not_fetched += 1
        elif status is FeedbackStatus.UNKNOWN:
            counts.runs_feedback_unknown += 1
        counts.feedback_records += len(run.get("feedback_records") or [])
    counts.traces = len(traces)
    return counts


def rationale_records(runs: Iterable[dict[str, Any]]) -> int:
    """Feedback records whose value is a dict: what `feedback_stats` cannot carry."""
    return sum(1 for run in runs for rec in (run.get("feedback_records") or []) if isinstance(rec.get("value"), dict))
