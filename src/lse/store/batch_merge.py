"""One batch of a load: prepare it (pure Python), then merge and write it (one transaction).

Preparing assumes every run is new — true for nearly all runs of a first load — and
encodes its row and feedback rows up front, so the loader can prepare batch k+1
while batch k is in the database. Writing reads the batch's stored runs with one
SELECT; only runs that turn out to exist (or appear twice) are merged with the record
merge rule and encoded again. A run whose merge changes nothing is not written. On
PostgreSQL a first load skips that SELECT (see `write`). A batch that changes rows
deletes the day figures of the days it touches (`lse.store.day_figures`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lse.errors import RowRefused
from lse.records import merge_run
from lse.store.rows import (
    FeedbackColumns,
    canonical_run_text,
    feedback_columns,
    feedback_differences,
    is_older,
    run_columns,
    run_id_of,
    skim_run_fields,
)
from lse.store.stored_form import bracket_counts, parse_line
from lse.store.upsert import (
    AlreadyStored,
    BatchWriter,
    EncodedFeedback,
    EncodedRun,
    StoredRun,
    decode_encoded,
    encode_feedback,
    encode_run,
    shard_of,
)

# What one row can fail with: the database refusing its values, or a value Python
# cannot encode. Any other StorageError (database down, schema missing, disk full)
# is not about a row and stops the load.
VALUE_ERRORS = (ValueError, TypeError, RecursionError, OverflowError)
ROW_ERRORS = (RowRefused, *VALUE_ERRORS)


@dataclass(slots=True)
class Prepared:
    """A run encoded as if new. It keeps the raw line, not the parsed run: a batch waits
    for the database while the next one is prepared, and thousands of parsed documents
    held that long cost more in garbage collection than parsing the rare run that turns
    out to be stored (or listed twice) once more (`run`)."""

    position: int
    run_id: str
    shard: int  # shard_of(run_id): its lane and its load lock
    raw: bytes | None  # the archive line; None when `row` holds that line
    status: str
    row: EncodedRun  # the row if the run is new
    feedback: list[EncodedFeedback]  # its feedback rows if the run is new

    @property
    def run(self) -> dict[str, Any]:
        return parse_line(self.raw if self.raw is not None else self.row.utf8)[0]


@dataclass
class BatchOutcome:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    escaped: int = 0
    feedback: int = 0
    bad: list[tuple[int, str | None, BaseException]] = field(default_factory=list)
    days: set[tuple[str, date]] = field(default_factory=set)  # (project, day)s whose rows changed

    def add(self, other: BatchOutcome) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.escaped += other.escaped
        self.feedback += other.feedback
        self.bad += other.bad
        self.days |= other.days


def prepare(
    batch: list[tuple[int, bytes]], project: str, day: date
) -> tuple[list[Prepared], list[tuple[int, str | None, BaseException]]]:
    """Encode each line as a new run; lines that cannot be are returned as bad."""
    good: list[Prepared] = []
    bad: list[tuple[int, str | None, BaseException]] = []
    brackets = bracket_counts([raw for _, raw in batch])
    for (position, raw), nesting_bound in zip(batch, brackets, strict=True):
        run: Any = None
        line: str | bytes | None
        try:
            # A line stored as is needs only the fields its columns come from, and is
            # written as the bytes read; any other is parsed whole (and then stored in
            # its escaped form).
            run = skim_run_fields(raw, nesting_bound)
            if run is not None:
                line = raw
            else:
                run, line = parse_line(raw)
            cols = run_columns(run, project, day)
            row = encode_run(cols, run, line)
            fbs = [encode_feedback(fb, finite=line is not None) for fb in feedback_columns(run, project, day, cols)]
        except VALUE_ERRORS as exc:
            bad.append((position, _run_id_or_none(run), exc))
            continue
        good.append(
            Prepared(
                position,
                cols.run_id,
                shard_of(cols.run_id),
                None if line is not None else raw,
                cols.feedback_status,
                row,
                fbs,
            )
        )
    return good, bad


def _run_id_or_none(run: Any) -> str | None:
    """The id of a run that turned out to be a bad row, for its report, if it has one."""
    try:
        return run_id_of(run)
    except VALUE_ERRORS:
        return None


def write_isolating(writer: BatchWriter, batch: list[Prepared], project: str, day: date) -> BatchOutcome:
    """Write the batch; if a row's values fail it, write row by row and report the rows
    that still fail. An error that is not about a row is raised as it is."""
    if not batch:
        return BatchOutcome()
    try:
        return write(writer, batch, project, day)
    except ROW_ERRORS as exc:
        if len(batch) == 1:
            return BatchOutcome(bad=[(batch[0].position, batch[0].run_id, exc)])
    out = BatchOutcome()
    for p in batch:
        try:
            out.add(write(writer, [p], project, day))
        except ROW_ERRORS as exc:
            out.bad.append((p.position, p.run_id, exc))
    return out


def write(writer: BatchWriter, batch: list[Prepared], project: str, day: date) -> BatchOutcome:
    """Merge against the stored rows and upsert, in one transaction.

    While the writer assumes new runs (a first load), the batch is first written
    without looking its ids up: the unique indexes check them anyway as the rows go in,
    and one stored row sends this batch, and every later one, the way that looks up."""
    if writer.assumes_new:
        try:
            return _write(writer, batch, project, day, assume_new=True)
        except AlreadyStored:
            writer.assumes_new = False
    return _write(writer, batch, project, day, assume_new=False)


def _write(writer: BatchWriter, batch: list[Prepared], project: str, day: date, *, assume_new: bool) -> BatchOutcome:
    out = BatchOutcome()
    with writer.transaction(project, {p.shard for p in batch}, assume_new=assume_new) as tx:
        # Assuming new, nothing is stored: what follows writes every row as new.
        stored = {} if assume_new else tx.stored_runs(list(dict.fromkeys(p.run_id for p in batch)))
        rows: list[EncodedRun] = []
        feedback: dict[str, EncodedFeedback] = {}
        for rid, entry in _merged(batch, stored).items():
            if isinstance(entry, Prepared):  # new, and stored exactly as prepared
                rows.append(entry.row)
                fbs = entry.feedback
                out.inserted += 1
            elif entry.stored is not None and _same(entry.run, entry.stored, project, day):
                out.unchanged += 1
                fbs = [encode_feedback(fb) for fb in feedback_columns(entry.run, project, day)]
            else:
                rows.append(encode_run(run_columns(entry.run, project, day), entry.run))
                fbs = [encode_feedback(fb) for fb in feedback_columns(entry.run, project, day)]
                if rid in stored:
                    out.updated += 1
                else:
                    out.inserted += 1
            for fb in fbs:  # unchanged runs too: fills in or repairs rows of the table
                old = feedback.get(fb.cols.feedback_id)
                if old is None or not is_older(fb.cols, old.cols):
                    feedback[fb.cols.feedback_id] = fb
        out.escaped = sum(r.encoding is not None for r in rows)
        tx.upsert_runs(rows)
        stored_fb = {} if assume_new else tx.stored_feedback(list(feedback))
        changed = [fb for fid, fb in feedback.items() if _feedback_changes(fb, stored_fb.get(fid))]
        out.feedback = tx.upsert_feedback(changed, all_new=not stored_fb)
        if (rows or out.feedback) and writer.keeps_day_figures:
            # The days whose rows this batch changes: its own, and those of the runs and
            # feedback rows it rewrites (a run loaded from another day's file moves).
            before = [s.cols for s in stored.values()] + [
                stored_fb[f.cols.feedback_id] for f in changed if f.cols.feedback_id in stored_fb
            ]
            out.days = {(project, day)} | {(c.project, c.run_date) for c in before if c.run_date is not None}
            tx.forget_day_figures(out.days)
    return out


@dataclass(slots=True)
class Merged:
    """A run merged with what is stored (`stored`: None when new but listed twice)."""

    run: dict[str, Any]
    stored: StoredRun | None


def _merged(batch: list[Prepared], stored: dict[str, StoredRun]) -> dict[str, Prepared | Merged]:
    """Per run id: its Prepared while that is still valid (new, listed once), else the
    run merged with what was stored.

    In file order, so a run listed twice merges with itself as it would across loads.
    """
    out: dict[str, Prepared | Merged] = {}
    for p in batch:
        earlier = out.get(p.run_id)
        if earlier is not None:
            prev = earlier.stored if isinstance(earlier, Merged) else None
            out[p.run_id] = Merged(merge_run(earlier.run, p.run), prev)
        elif p.run_id in stored:
            prev = stored[p.run_id]
            out[p.run_id] = Merged(merge_run(prev.data, p.run), prev)
        else:
            out[p.run_id] = p
    return out


def _same(merged: dict[str, Any], prev: StoredRun, project: str, day: date) -> bool:
    """Whether writing `merged` would change nothing: the document means the same and
    the index columns already say what it says."""
    return (
        canonical_run_text(merged) == canonical_run_text(prev.data) and run_columns(merged, project, day) == prev.cols
    )


def _feedback_changes(incoming: EncodedFeedback, stored: FeedbackColumns | None) -> bool:
    """Whether writing this row changes the table: it is missing, or the record is not
    older than the stored row and differs from it (a tie takes the incoming, as in the
    merge rule, so rows changed behind lse's back are repaired)."""
    if stored is None:
        return True
    if is_older(incoming.cols, stored):
        return False
    return bool(feedback_differences(decode_encoded(incoming), stored))
