"""Do the archive files and the database say the same thing about a project-day?

Compares, run by run, what the loader would have stored from the files with what the
database holds: run ids (both directions), trace membership and the index columns,
the run document, feedback record ids and content in the document, and the
`feedback` rows. Streams the file in batches with one query per batch, holding only
the day's run and feedback ids (and the rare run listed more than once, which a first
pass over the file finds: it is merged over all its lines, as the loader merges it,
and compared once at the end). The CLI turns a report with differences into
VerificationFailed (exit 3).

Checking against LangSmith itself (`--against-source`) is a separate function so
this one stays offline and cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, computed_field
from sqlalchemy import Engine, select

from lse.archive.layout import list_days
from lse.archive.reader import iter_lines
from lse.errors import UsageError
from lse.progress import NullProgress, Progress
from lse.records import merge_run
from lse.records.batches import batched
from lse.records.timestamps import as_utc
from lse.settings import Settings
from lse.store.batch_merge import VALUE_ERRORS
from lse.store.engine import get_engine
from lse.store.errors import translated
from lse.store.models.archive import FeedbackRow, RunRow
from lse.store.rows import (
    FeedbackColumns,
    canonical_run_text,
    feedback_columns,
    feedback_differences,
    run_columns,
    run_id_of,
    stored_feedback_columns,
)
from lse.store.stored_form import comparable_json, decode_stored, parse_line

MAX_DIFFERENCES_KEPT = 1000


class DifferenceKind(StrEnum):
    RUN_MISSING_IN_DB = "run_missing_in_db"
    RUN_EXTRA_IN_DB = "run_extra_in_db"
    RUN_UNREADABLE_IN_FILE = "run_unreadable_in_file"  # a line the loader isolates as a bad row
    COLUMN_MISMATCH = "column_mismatch"
    DATA_MISMATCH = "data_mismatch"
    FEEDBACK_MISSING_IN_DB = "feedback_missing_in_db"  # a record in the file's run, not the stored one
    FEEDBACK_EXTRA_IN_DB = "feedback_extra_in_db"
    FEEDBACK_MISMATCH = "feedback_mismatch"
    FEEDBACK_ROW_MISSING = "feedback_row_missing"  # a row of the feedback table
    FEEDBACK_ROW_MISMATCH = "feedback_row_mismatch"
    FEEDBACK_ROW_EXTRA = "feedback_row_extra"


class Difference(BaseModel):
    kind: DifferenceKind
    run_id: str | None = None
    feedback_id: str | None = None
    detail: str = ""


class VerifyReport(BaseModel):
    project: str
    day: date
    runs_in_files: int = Field(default=0, description="distinct runs in the file (a run listed twice counts once)")
    runs_in_db: int = 0
    feedback_in_files: int = 0
    feedback_rows_in_db: int = 0
    differences_count: int = 0
    differences: list[Difference] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]  # -- pydantic's idiom; mypy does not model decorated properties
    @property
    def ok(self) -> bool:
        return self.differences_count == 0

    def add(self, diff: Difference) -> None:
        self.differences_count += 1
        if len(self.differences) < MAX_DIFFERENCES_KEPT:
            self.differences.append(diff)


def verify_day(
    settings: Settings,
    project: str,
    day: date,
    progress: Progress | None = None,
    *,
    engine: Engine | None = None,
    batch_size: int = 1000,
) -> VerifyReport:
    """Compare one archived day with the database; NotFoundError when it is not archived."""
    progress = progress or NullProgress()
    engine = engine or get_engine(settings)
    report = VerifyReport(project=project, day=day)
    run_ids: set[str] = set()
    feedback_ids: set[str] = set()
    progress.start(None, f"verify {project} {day}")
    repeated = _repeated_run_ids(iter_lines(settings, project, day))
    # A run listed more than once merges across the whole file (as the loader merges it
    # through the database), so it is compared once, after its last line.
    merged_repeats: dict[str, dict[str, Any]] = {}
    with translated(f"verifying {project} {day}"), engine.connect() as conn:
        for batch in batched(iter_lines(settings, project, day), batch_size):
            expected = _expected_runs(batch, project, day, report, repeated, merged_repeats)
            run_ids.update(expected)
            _compare_batch(conn, expected, project, day, report, feedback_ids)
            progress.update(len(batch))
        run_ids.update(merged_repeats)
        report.runs_in_files = len(run_ids)  # distinct runs; unreadable lines are differences
        for part in batched(merged_repeats.items(), batch_size):
            _compare_batch(conn, dict(part), project, day, report, feedback_ids)
        _extras(conn, project, day, run_ids, feedback_ids, report)
    progress.complete()
    return report


def verify_range(
    settings: Settings,
    project: str,
    start: date,
    end: date,
    progress: Progress | None = None,
    *,
    engine: Engine | None = None,
) -> list[VerifyReport]:
    """Verify every archived day from `start` to `end` inclusive."""
    if end < start:
        raise UsageError(f"end date {end} is before start date {start}")
    engine = engine or get_engine(settings)
    return [
        verify_day(settings, project, d, progress, engine=engine)
        for d in list_days(settings, project)
        if start <= d <= end
    ]


def _repeated_run_ids(lines: Iterable[tuple[int, bytes]]) -> set[str]:
    """Ids of the runs listed more than once in the file (normally none)."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for _, raw in lines:
        try:
            rid = run_id_of(parse_line(raw)[0])
        except VALUE_ERRORS:
            continue
        (repeated if rid in seen else seen).add(rid)
    return repeated


def _expected_runs(
    batch: list[tuple[int, bytes]],
    project: str,
    day: date,
    report: VerifyReport,
    repeated: set[str],
    merged_repeats: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """What the loader stores for the batch's runs listed once; a run listed more than
    once is merged into `merged_repeats`, in file order, as the loader merges it. A line
    the loader would isolate as a bad row is reported here, as not in the database."""
    expected: dict[str, dict[str, Any]] = {}
    for position, raw in batch:
        try:
            run, _ = parse_line(raw)
            rid = run_id_of(run)
            run_columns(run, project, day)  # raise BadRun where the loader does
            feedback_columns(run, project, day)
        except VALUE_ERRORS as exc:
            report.add(Difference(kind=DifferenceKind.RUN_UNREADABLE_IN_FILE, detail=f"line {position}: {exc}"))
            continue
        if rid in repeated:
            merged_repeats[rid] = merge_run(merged_repeats.get(rid), run)
        else:
            expected[rid] = run
    return expected


def _compare_batch(
    conn: Any,
    expected: dict[str, dict[str, Any]],
    project: str,
    day: date,
    report: VerifyReport,
    feedback_ids: set[str],
) -> None:
    ids = list(expected)
    rows = {r.run_id: r for r in conn.execute(select(RunRow.__table__).where(RunRow.run_id.in_(ids)))}
    fb_rows = {r.feedback_id: r for r in conn.execute(select(FeedbackRow.__table__).where(FeedbackRow.run_id.in_(ids)))}
    for rid, run in expected.items():
        want_fb = feedback_columns(run, project, day)
        report.feedback_in_files += len(want_fb)
        feedback_ids.update(f.feedback_id for f in want_fb)
        row = rows.get(rid)
        if row is None:
            report.add(Difference(kind=DifferenceKind.RUN_MISSING_IN_DB, run_id=rid, detail="run is in the files only"))
        else:
            _compare_run(rid, run, row, project, day, report)
        for want in want_fb:
            _compare_feedback_row(want, fb_rows.get(want.feedback_id), report)


def _compare_run(rid: str, run: dict[str, Any], row: Any, project: str, day: date, report: VerifyReport) -> None:
    cols = run_columns(run, project, day)
    for name in ("trace_id", "parent_run_id", "project", "run_date", "feedback_status"):
        want, got = getattr(cols, name), getattr(row, name)
        if want != got:
            report.add(
                Difference(
                    kind=DifferenceKind.COLUMN_MISMATCH, run_id=rid, detail=f"{name}: files {want!r}, db {got!r}"
                )
            )
    if _utc(cols.start_time) != _utc(row.start_time):
        report.add(Difference(kind=DifferenceKind.COLUMN_MISMATCH, run_id=rid, detail="start_time differs"))
    stored = decode_stored(row.data) if row.data_encoding else row.data
    if not isinstance(stored, dict):
        report.add(Difference(kind=DifferenceKind.DATA_MISMATCH, run_id=rid, detail="db data is not a JSON object"))
        return
    if canonical_run_text(run) == canonical_run_text(stored):
        return
    fields = sorted(
        k
        for k in set(run) | set(stored)
        if k not in ("feedback_records", "feedback_fetch_status", "feedback_fetch_error")
        and _text(run.get(k)) != _text(stored.get(k))
    )
    if fields:
        report.add(
            Difference(kind=DifferenceKind.DATA_MISMATCH, run_id=rid, detail=f"fields differ: {', '.join(fields)}")
        )
    want = _records_by_id(run)
    got = _records_by_id(stored)
    for fid in sorted(set(want) - set(got)):
        report.add(Difference(kind=DifferenceKind.FEEDBACK_MISSING_IN_DB, run_id=rid, feedback_id=fid))
    for fid in sorted(set(got) - set(want)):
        report.add(Difference(kind=DifferenceKind.FEEDBACK_EXTRA_IN_DB, run_id=rid, feedback_id=fid))
    for fid in sorted(set(want) & set(got)):
        if _text(want[fid]) != _text(got[fid]):
            keys = sorted(
                k for k in set(want[fid]) | set(got[fid]) if _text(want[fid].get(k)) != _text(got[fid].get(k))
            )
            report.add(
                Difference(
                    kind=DifferenceKind.FEEDBACK_MISMATCH,
                    run_id=rid,
                    feedback_id=fid,
                    detail=f"fields differ: {', '.join(keys)}",
                )
            )
    if not fields and set(want) == set(got) and all(_text(want[f]) == _text(got[f]) for f in want):
        report.add(Difference(kind=DifferenceKind.DATA_MISMATCH, run_id=rid, detail="feedback status differs"))


def _compare_feedback_row(want: FeedbackColumns, row: Any, report: VerifyReport) -> None:
    if row is None:
        report.add(
            Difference(kind=DifferenceKind.FEEDBACK_ROW_MISSING, run_id=want.run_id, feedback_id=want.feedback_id)
        )
        return

    got = stored_feedback_columns(row._mapping)
    bad = feedback_differences(want, got)
    if bad:
        report.add(
            Difference(
                kind=DifferenceKind.FEEDBACK_ROW_MISMATCH,
                run_id=want.run_id,
                feedback_id=want.feedback_id,
                detail=f"columns differ: {', '.join(bad)}",
            )
        )


def _extras(
    conn: Any, project: str, day: date, run_ids: set[str], feedback_ids: set[str], report: VerifyReport
) -> None:
    where_runs = (RunRow.project == project) & (RunRow.run_date == day)
    for (rid,) in conn.execute(select(RunRow.run_id).where(where_runs)):
        report.runs_in_db += 1
        if rid not in run_ids:
            report.add(
                Difference(kind=DifferenceKind.RUN_EXTRA_IN_DB, run_id=rid, detail="run is in the database only")
            )
    where_fb = (FeedbackRow.project == project) & (FeedbackRow.run_date == day)
    for fid, rid in conn.execute(select(FeedbackRow.feedback_id, FeedbackRow.run_id).where(where_fb)):
        report.feedback_rows_in_db += 1
        if fid not in feedback_ids:
            report.add(Difference(kind=DifferenceKind.FEEDBACK_ROW_EXTRA, run_id=rid, feedback_id=fid))


def _records_by_id(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    records = run.get("feedback_records")
    if not isinstance(records, list):
        return {}
    return {str(r.get("id")): r for r in records if isinstance(r, dict)}


def _text(value: Any) -> str:
    return comparable_json(value)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)
