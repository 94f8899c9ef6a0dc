"""How a stored run and its feedback records become column values.

One derivation shared by the loader (what to write) and verify (what should be
there), so the two can never disagree about what a column means. Values stay Python
objects here; the stored form (escaping) is applied by the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from lse.records import FeedbackStatus, feedback_status_of
from lse.store.stored_form import comparable_json


class BadRun(ValueError):
    """A line of runs.jsonl that is not a storable run (no id, not an object)."""


@dataclass(slots=True)
class RunColumns:
    run_id: str
    trace_id: str | None
    parent_run_id: str | None
    project: str
    run_date: date
    start_time: datetime | None
    feedback_status: str


@dataclass(slots=True)
class FeedbackColumns:
    feedback_id: str
    run_id: str
    trace_id: str | None
    project: str
    run_date: date
    key: str | None
    score: float | None
    value: Any
    comment: str | None
    correction: Any
    source: Any
    created_at: datetime | None
    modified_at: datetime | None


def run_id_of(run: Any) -> str:
    """The run's id, or BadRun: without one a run cannot be upserted or found again."""
    if not isinstance(run, dict):
        raise BadRun(f"not a JSON object but {type(run).__name__}")
    rid = run.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()):
        raise BadRun("run has no id")
    if not isinstance(rid, (str, int)):
        raise BadRun(f"run id is a {type(rid).__name__}, not a string")
    return str(rid)


def run_columns(run: dict[str, Any], project: str, day: date) -> RunColumns:
    """Index columns of a run: run_date is the archive folder's day (its trace root's UTC day)."""
    return RunColumns(
        run_id=run_id_of(run),
        trace_id=_opt_str(run.get("trace_id")),
        parent_run_id=_opt_str(run.get("parent_run_id")),
        project=project,
        run_date=day,
        start_time=parse_timestamp(run.get("start_time")),
        feedback_status=feedback_status_of(run).value,
    )


def feedback_columns(run: dict[str, Any], project: str, day: date) -> list[FeedbackColumns]:
    """One row per feedback record of `run` that has an id (others stay in runs.data only)."""
    records = run.get("feedback_records")
    if not isinstance(records, list):
        return []
    run_id = run_id_of(run)
    run_trace = _opt_str(run.get("trace_id"))
    out: list[FeedbackColumns] = []
    for rec in records:
        if not isinstance(rec, dict) or rec.get("id") is None:
            continue
        out.append(
            FeedbackColumns(
                feedback_id=str(rec["id"]),
                run_id=_opt_str(rec.get("run_id")) or run_id,
                trace_id=_opt_str(rec.get("trace_id")) or run_trace,
                project=project,
                run_date=day,
                key=_opt_str(rec.get("key")),
                score=_score(rec.get("score")),
                value=rec.get("value"),
                comment=_opt_str(rec.get("comment")),
                correction=rec.get("correction"),
                source=rec.get("feedback_source", rec.get("source")),
                created_at=parse_timestamp(rec.get("created_at")),
                modified_at=parse_timestamp(rec.get("modified_at")),
            )
        )
    return out


def canonical_run_text(run: dict[str, Any]) -> str:
    """What a stored run *means*, as sorted JSON text: feedback record order, an absent
    vs null list and a derivable status are not differences (and NaN equals NaN)."""
    out = dict(run)
    records = out.get("feedback_records")
    if isinstance(records, list):
        out["feedback_records"] = sorted(records, key=_record_sort_key)
    else:
        out["feedback_records"] = None
    status = feedback_status_of(run)
    out["feedback_fetch_status"] = status.value
    if status != FeedbackStatus.NOT_FETCHED:
        out.pop("feedback_fetch_error", None)
    return comparable_json(out)


def _record_sort_key(record: Any) -> str:
    return str(record.get("id")) if isinstance(record, dict) else ""


def feedback_stamp(row: FeedbackColumns) -> datetime | None:
    """What "newer" compares for one feedback row, as the merge rule does."""
    return row.modified_at or row.created_at


def parse_timestamp(raw: Any) -> datetime | None:
    """An ISO-8601 string (or datetime) as an aware UTC datetime; None when absent or unreadable.

    Unreadable timestamps are not an error: the raw value stays in runs.data, the column
    is only an index.
    """
    if raw is None:
        return None
    if isinstance(raw, datetime):
        dt = raw
    elif isinstance(raw, str):
        try:
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an int beyond float range: keep it only in runs.data
            return None
    return None
