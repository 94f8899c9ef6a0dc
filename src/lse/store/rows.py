"""How a stored run and its feedback records become column values.

One derivation shared by the loader (what to write) and verify (what should be
there), so the two can never disagree about what a column means. Values stay Python
objects here; the stored form (escaping) is applied by the writer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict

from lse.records import FeedbackStatus, feedback_status_of, merge_feedback
from lse.records.jsonl import Skimmer, loads
from lse.records.timestamps import parse_utc
from lse.store.stored_form import comparable_json, decode_stored, holds_unstorable, skim_line, skim_storable


class BadRun(ValueError):
    """A line of runs.jsonl that is not a storable run (no id, not an object)."""


# Keyword-only: rows are built by column name, so no SELECT's column order can shift a
# value into the wrong field. `run_date` is None only for a stored row whose day is not
# a readable date (no load writes one; it differs from any run's columns, so it is rewritten).
@dataclass(slots=True, kw_only=True)
class RunColumns:
    run_id: str
    trace_id: str | None
    parent_run_id: str | None
    project: str
    run_date: date | None
    start_time: datetime | None
    feedback_status: str


# The run columns beside `data`, as the loader writes and reads them.
RUN_COLUMNS = ("run_id", "trace_id", "parent_run_id", "project", "run_date", "start_time", "feedback_status")


@dataclass(slots=True, kw_only=True)
class FeedbackColumns:
    feedback_id: str
    run_id: str
    trace_id: str | None
    project: str
    run_date: date | None
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
    return _id(rid, "run id")


def run_columns(run: dict[str, Any], project: str, day: date) -> RunColumns:
    """Index columns of a run: run_date is the archive folder's day (its trace root's UTC day)."""
    return RunColumns(
        run_id=run_id_of(run),
        trace_id=_opt_id(run.get("trace_id"), "trace_id"),
        parent_run_id=_opt_id(run.get("parent_run_id"), "parent_run_id"),
        project=project,
        run_date=day,
        start_time=parse_utc(run.get("start_time")),
        feedback_status=feedback_status_of(run).value,
    )


def feedback_columns(
    run: dict[str, Any], project: str, day: date, cols: RunColumns | None = None
) -> list[FeedbackColumns]:
    """One row per feedback record of `run` that has an id (others stay in runs.data only).
    `cols`: the run's own columns, when the caller has them already."""
    records = run.get("feedback_records")
    if not isinstance(records, list) or not records:
        return []
    records = unique_records(records)
    cols = cols or run_columns(run, project, day)
    run_id, run_trace = cols.run_id, cols.trace_id
    out: list[FeedbackColumns] = []
    for rec in records:
        if not isinstance(rec, dict) or rec.get("id") is None:
            continue
        out.append(
            FeedbackColumns(
                feedback_id=_id(rec["id"], "feedback id"),
                run_id=_opt_id(rec.get("run_id"), "feedback run_id") or run_id,
                trace_id=_opt_id(rec.get("trace_id"), "feedback trace_id") or run_trace,
                project=project,
                run_date=day,
                key=_opt_str(rec.get("key")),
                score=_score(rec.get("score")),
                value=rec.get("value"),
                comment=_opt_str(rec.get("comment")),
                correction=rec.get("correction"),
                source=rec.get("feedback_source", rec.get("source")),
                created_at=parse_utc(rec.get("created_at")),
                modified_at=parse_utc(rec.get("modified_at")),
            )
        )
    return out


class _RunFields(TypedDict, total=False):
    """What `run_columns` and `feedback_columns` read of a run (the feedback records
    whole, as `loads` reads them)."""

    id: str | None
    trace_id: str | None
    parent_run_id: str | None
    start_time: str | None
    feedback_fetch_status: str | None
    feedback_records: Any


_SKIM_RUN = Skimmer(_RunFields)


def skim_run(raw: bytes) -> tuple[dict[str, Any], str] | None:
    """For an archive line stored as is (`stored_form.skim_line`): the part of the run
    its columns are derived from, as `run_columns` and `feedback_columns` read it from
    the whole run, and the line. None when the line must be parsed whole.

    Why: a run is a few KB of inputs, outputs and metadata that the loader stores as
    the line it read; building all of it as Python objects only to derive seven
    columns was most of the cost of loading a new run. Fields of another type than
    the common one (an integer id, say) send the line to the full parse, so the
    columns always come from the same code, reading the same values.
    """
    return skim_line(raw, _SKIM_RUN)


def skim_run_fields(raw: bytes, brackets: int | None = None) -> dict[str, Any] | None:
    """`skim_run`'s fields alone, for a caller that stores the line as its own bytes
    (`brackets`: the line's count from `stored_form.bracket_counts`, when it has it)."""
    fields: dict[str, Any] | None = skim_storable(raw, _SKIM_RUN, brackets)
    return fields


def canonical_run_text(run: dict[str, Any]) -> str:
    """What a stored run *means*, as sorted JSON text: feedback record order, a record
    listed twice (the merge keeps one), an absent vs null list and a derivable status
    are not differences (and NaN equals NaN)."""
    out = dict(run)
    records = out.get("feedback_records")
    if isinstance(records, list):
        out["feedback_records"] = sorted(unique_records(records), key=_record_sort_key)
    else:
        out["feedback_records"] = None
    status = feedback_status_of(run)
    out["feedback_fetch_status"] = status.value
    if status != FeedbackStatus.NOT_FETCHED:
        out.pop("feedback_fetch_error", None)
    return comparable_json(out)


def unique_records(records: list[Any]) -> list[Any]:
    """One record per id, the one the merge rule keeps (the newer; of a tie, the later
    listed): what a merge makes of the list, and so what the database ends up with.
    Entries that are not records with an id are left as they are."""
    if len(records) < 2:
        return records
    keyed = [r for r in records if isinstance(r, dict) and r.get("id") is not None]
    if len(keyed) == len({str(r["id"]) for r in keyed}):
        return records
    return (merge_feedback([], keyed) or []) + [
        r for r in records if not (isinstance(r, dict) and r.get("id") is not None)
    ]


def _record_sort_key(record: Any) -> str:
    return str(record.get("id")) if isinstance(record, dict) else ""


def feedback_stamp(row: FeedbackColumns) -> datetime | None:
    """What "newer" compares for one feedback row, as the merge rule does."""
    return row.modified_at or row.created_at


def is_older(a: FeedbackColumns, b: FeedbackColumns) -> bool:
    """Whether row `a` is strictly older than `b` (an unknown time is the oldest), so
    that `b` is kept; a tie is not older: the incoming row wins it, as in the merge."""
    sa, sb = feedback_stamp(a), feedback_stamp(b)
    return sb is not None and (sa is None or sa < sb)


def feedback_differences(want: FeedbackColumns, got: FeedbackColumns) -> list[str]:
    """The columns in which two decoded feedback rows differ (by value: JSON key order,
    a timestamp's zone and NaN vs NaN are not differences)."""
    return [
        name
        for name in FEEDBACK_COMPARED
        if comparable_json(_instant(getattr(want, name))) != comparable_json(_instant(getattr(got, name)))
    ]


# The feedback table's columns, as the loader writes and reads them and verify reads them.
FEEDBACK_COLUMNS = (
    "feedback_id",
    "run_id",
    "trace_id",
    "project",
    "run_date",
    "key",
    "score",
    "value",
    "comment",
    "correction",
    "source",
    "created_at",
    "modified_at",
    "encoding",
)
FEEDBACK_DOCUMENTS = ("value", "correction", "source")  # JSON columns
# What a feedback row says, column by column, as loader and verify compare it.
FEEDBACK_COMPARED = tuple(c for c in FEEDBACK_COLUMNS if c not in ("feedback_id", "encoding"))


def stored_run_columns(row: Mapping[str, Any]) -> RunColumns:
    """A run's index columns from a stored row, by column name (values already converted)."""
    return RunColumns(**{name: row[name] for name in RUN_COLUMNS})


def stored_feedback_columns(row: Mapping[str, Any], *, documents_as_text: bool = False) -> FeedbackColumns:
    """A feedback row as the database holds it, by column name (values in the stored
    form; `documents_as_text`: `value`, `correction` and `source` are JSON texts, read
    with the codec) turned back into what the record said: the one decoding for rows
    read back by the loader and verify, and for rows about to be written."""
    encoded = bool(row["encoding"])

    def plain(v: Any) -> Any:
        return decode_stored(v) if encoded else v

    def document(name: str) -> Any:
        v = row[name]
        return plain(loads(v) if documents_as_text and v is not None else v)

    return FeedbackColumns(
        feedback_id=row["feedback_id"],
        run_id=row["run_id"],
        trace_id=row["trace_id"],
        project=row["project"],
        run_date=row["run_date"],
        key=plain(row["key"]),
        score=row["score"],
        value=document("value"),
        comment=plain(row["comment"]),
        correction=document("correction"),
        source=document("source"),
        created_at=row["created_at"],
        modified_at=row["modified_at"],
    )


def _instant(value: Any) -> Any:
    return parse_utc(value) if isinstance(value, datetime) else value


def _id(value: Any, what: str) -> str:
    """An id for an id column. One holding U+0000 or a lone surrogate makes the run a
    BadRun on every backend alike: no text column stores it as is, and an escaped id
    would no longer join with the ids that refer to it."""
    if type(value) is str and value.isascii() and "\x00" not in value:
        return value  # nearly every id, decided without a call
    text = str(value)
    if holds_unstorable(text):
        raise BadRun(f"{what} holds U+0000 or a lone surrogate")
    return text


def _opt_id(value: Any, what: str) -> str | None:
    return None if value is None else _id(value, what)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _score(value: Any) -> float | None:
    """The score as a finite float for the column; anything else (NaN, infinities, an
    int beyond float range, a Decimal, text) is NULL there and kept only in runs.data,
    the same on both backends (SQLite would store NaN as NULL anyway)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        try:
            score = float(value)
        except OverflowError:
            return None
        return score if math.isfinite(score) else None
    return None
