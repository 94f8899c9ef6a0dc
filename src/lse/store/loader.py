"""Load archived project-days into the database: upsert by id, merge never shrinks.

Why it is shaped this way:

- **Streaming.** runs.jsonl is read in batches of `batch_size` runs; nothing holds a
  whole day, so memory is flat however big the day is. The stages overlap: while the
  caller's thread parses and encodes the next batch (`batch_merge.prepare`), the
  lanes (`lse.store.lanes`) write earlier ones, on `LSE_LOAD_WRITERS` connections on
  PostgreSQL. All lines of one run go to one lane, in file order, so a run's later
  line always merges with what its earlier one wrote.
- **The merge is the record merge rule** (`lse.records.merge_run`), applied between
  what the database holds and what the file says, in Python, for the whole batch
  after one SELECT. A run whose feedback is unknown never erases stored records; a
  shorter list keeps them; a newer `modified_at` replaces. A run whose merge changes
  nothing is not written, so loading twice changes nothing.
- **One bad row never costs the day.** A batch that fails on a row's values (the
  database refusing them, or a value Python cannot encode) is retried row by row; the
  rows that still fail are reported (the load is then partial, exit 3) and the rest
  land. An error that is not about a row (database down, schema missing, disk full)
  stops the load as it is (`batch_merge.ROW_ERRORS`).
- **Day figures stay exact.** Each batch deletes the figures of the days it changes;
  when every batch is written, those days are recounted (`lse.store.day_figures`),
  before the load records itself.
"""

from __future__ import annotations

import bisect
import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, computed_field
from sqlalchemy import Engine

from lse.archive.layout import list_days
from lse.archive.reader import iter_lines, read_manifest
from lse.errors import UsageError
from lse.progress import NullProgress, Progress
from lse.records import FeedbackStatus
from lse.records.batches import batched
from lse.settings import Settings
from lse.store import day_figures, fetch_records
from lse.store.batch_merge import BatchOutcome, prepare
from lse.store.engine import get_engine
from lse.store.lanes import Lanes
from lse.store.upsert import writer_for

# 2,000: fewer transactions and round trips than 1,000 (~15% faster on PostgreSQL) at
# ~20 MB of memory; 5,000 gains little more, doubles the memory, and makes the row-by-row
# retry of a refused batch five times longer.
BATCH_SIZE = 2000
MAX_BAD_ROWS_KEPT = 100  # in the report and the fetch record; the count is always exact
# Lines read and prepared at a time; the lanes gather them into batches. Small, so the
# first batches are handed to the lanes (and the database) early, and so the lines just
# read are still in the CPU's cache when they are prepared (100 lines of ~3 KB fit a
# core's L2 where 500 do not: ~5% less time preparing).
PREPARE_CHUNK = 100


class LoadStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"  # some rows were bad: reported, kept in the file, the rest loaded


class BadRow(BaseModel):
    position: int = Field(description="1-based position of the run in runs.jsonl")
    run_id: str | None
    error: str


class LoadReport(BaseModel):
    project: str
    day: date
    runs_read: int = 0
    runs_inserted: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    runs_escaped: int = Field(default=0, description="stored with U+0000/surrogates/NaN escaped")
    feedback_rows: int = Field(default=0, description="feedback rows written: new, or newer than the stored row")
    feedback: dict[str, int] = Field(
        default_factory=lambda: {s.value: 0 for s in FeedbackStatus},
        description="runs in the file by feedback status; 'unknown' = archived before capture",
    )
    bad_rows_count: int = 0
    bad_rows: list[BadRow] = Field(default_factory=list)
    duration_s: float = 0.0

    @computed_field  # type: ignore[prop-decorator]  # -- pydantic's idiom; mypy does not model decorated properties
    @property
    def status(self) -> LoadStatus:
        return LoadStatus.PARTIAL if self.bad_rows_count else LoadStatus.COMPLETE


class LoadRangeReport(BaseModel):
    project: str
    start: date
    end: date
    days: list[LoadReport] = Field(default_factory=list)
    days_not_archived: list[date] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]  # -- pydantic's idiom; mypy does not model decorated properties
    @property
    def bad_rows_count(self) -> int:
        return sum(d.bad_rows_count for d in self.days)


def load_day(
    settings: Settings,
    project: str,
    day: date,
    progress: Progress | None = None,
    *,
    engine: Engine | None = None,
    batch_size: int = BATCH_SIZE,
) -> LoadReport:
    """Load one archived project-day; NotFoundError when it is not archived."""
    progress = progress or NullProgress()
    engine = engine or get_engine(settings)
    started_at, t0 = datetime.now(UTC), time.monotonic()
    report = LoadReport(project=project, day=day)
    writer = writer_for(engine, settings.load_writers)
    manifest = read_manifest(settings, project, day)
    lines = iter_lines(settings, project, day)
    progress.start(manifest.counts.runs if manifest else None, f"{project} {day}")
    touched = {(project, day)}  # the loaded day is recounted even when nothing changed

    def finished(outcome: BatchOutcome) -> None:
        _apply(report, outcome)
        touched.update(outcome.days)

    with collection_paused(), Lanes(writer, project, day, batch_size, finished) as lanes:
        for batch in batched(lines, min(batch_size, PREPARE_CHUNK)):
            prepared, bad = prepare(batch, project, day)
            report.runs_read += len(batch)
            for p in prepared:
                report.feedback[p.status] += 1
            _apply(report, BatchOutcome(bad=bad))
            lanes.add(prepared)
            progress.update(len(batch))
    # Before the load is recorded: whoever sees the new load sees its day's figures.
    for name in sorted({p for p, _ in touched}) if writer.keeps_day_figures else ():
        day_figures.refresh(engine, name, {d for p, d in touched if p == name})
    progress.complete()
    report.duration_s = round(time.monotonic() - t0, 3)
    fetch_records.record(engine, _load_record(report, started_at))
    return report


def load_range(
    settings: Settings,
    project: str,
    start: date,
    end: date,
    progress: Progress | None = None,
    *,
    engine: Engine | None = None,
    batch_size: int = BATCH_SIZE,
) -> LoadRangeReport:
    """Load every archived day from `start` to `end` inclusive; days never archived are listed."""
    if end < start:
        raise UsageError(f"end date {end} is before start date {start}")
    engine = engine or get_engine(settings)
    archived = {d for d in list_days(settings, project) if start <= d <= end}
    out = LoadRangeReport(project=project, start=start, end=end)
    day = start
    while day <= end:
        if day in archived:
            out.days.append(load_day(settings, project, day, progress, engine=engine, batch_size=batch_size))
        else:
            out.days_not_archived.append(day)
        day = date.fromordinal(day.toordinal() + 1)
    return out


class _CollectorPause:
    """Loads running with the cyclic collector paused, and its state before the first."""

    lock = threading.Lock()
    loads = 0
    was_enabled = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a day streams through.

    Why: a load allocates a few objects per run that live until their batch is written
    — long enough to be promoted to the oldest generation, whose collections then scan
    the whole heap (every module, and in a server every cached object) again and again,
    more often the longer the day. The load makes no reference cycles (reference
    counting frees its batches the moment they are written); whatever cycles other
    threads make meanwhile are collected when the last concurrent load ends. Nested and
    concurrent loads share one pause; the collector's state before the first is
    restored after the last.
    """
    pause = _CollectorPause
    with pause.lock:
        if pause.loads == 0:
            pause.was_enabled = gc.isenabled()
            gc.disable()
        pause.loads += 1
    try:
        yield
    finally:
        with pause.lock:
            pause.loads -= 1
            if pause.loads == 0 and pause.was_enabled:
                gc.enable()


def _apply(report: LoadReport, out: BatchOutcome) -> None:
    report.runs_inserted += out.inserted
    report.runs_updated += out.updated
    report.runs_unchanged += out.unchanged
    report.runs_escaped += out.escaped
    report.feedback_rows += out.feedback
    for position, run_id, exc in out.bad:
        _bad(report, position, run_id, exc)


def _bad(report: LoadReport, position: int, run_id: str | None, exc: BaseException) -> None:
    """Count every bad row; keep the first MAX_BAD_ROWS_KEPT by position (lanes finish
    their batches in any order)."""
    report.bad_rows_count += 1
    if len(report.bad_rows) >= MAX_BAD_ROWS_KEPT and position > report.bad_rows[-1].position:
        return
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    bisect.insort(
        report.bad_rows,
        BadRow(position=position, run_id=run_id, error=f"{type(exc).__name__}: {message}"),
        key=lambda b: b.position,
    )
    del report.bad_rows[MAX_BAD_ROWS_KEPT:]


def _load_record(report: LoadReport, started_at: datetime) -> fetch_records.FetchRecord:
    return fetch_records.FetchRecord(
        kind=fetch_records.FetchKind.LOAD,
        project=report.project,
        day=report.day,
        status=fetch_records.FetchStatus(report.status),
        counts={
            "runs": report.runs_read,
            "inserted": report.runs_inserted,
            "updated": report.runs_updated,
            "unchanged": report.runs_unchanged,
            "escaped": report.runs_escaped,
            "feedback_rows": report.feedback_rows,
            "bad_rows": report.bad_rows_count,
            **{f"feedback_{k}": v for k, v in report.feedback.items()},
        },
        errors=report.bad_rows_count,
        duration_s=report.duration_s,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        details={"bad_rows": [b.model_dump() for b in report.bad_rows]},
    )
