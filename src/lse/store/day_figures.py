"""Per project-day figures kept in a table, exactly what the day's rows say.

Why: the archive viewer summarises days — runs, traces, feedback status, verdicts and
the rationale criteria true on each verdict. Counted from the rows, that is a scan of
every run of the range and an expansion of every verdict's JSON (about two unindexed
scans on a million runs); read from `day_figures`, it is one index range of a row per
day.

How the table stays exact, on both backends:

- every load transaction that changes rows deletes the figures of the project-days it
  touches (the loaded day, and the days of stored runs and feedback rows it rewrites,
  which a run loaded from another day's file moves) — in the same transaction, so a
  figures row never survives a change to its day's rows, even if the load dies after;
- when a load's batches are all written, `refresh` recomputes its days from the rows in
  one transaction that excludes every load batch of the project (PostgreSQL: all the
  project's load locks, `lse.store.upsert.shard_of`; SQLite: BEGIN IMMEDIATE). A batch
  committed before it is counted; one committed after deletes the figures again, and
  its own load refreshes them when it ends.

A day without a figures row (never refreshed, or a load still running or interrupted)
is computed from the rows when read (`lse.store.archive_views.days_figures`).

Names (verdicts, criteria) are kept in the stored form of the feedback rows
(`stored_form`), decoded when read.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from lse.records import FeedbackStatus
from lse.store.errors import database_error
from lse.store.models.archive import DayFiguresRow, RunRow
from lse.store.stored_form import decode_stored

FEEDBACK_STATUSES = tuple(s.value for s in FeedbackStatus)
# Memory for a refresh's sorts: a day of 100,000 runs groups in memory, not in temp
# files, as the 4 MB default would (the planner, without statistics on rows just
# loaded, sorts where it could hash).
COUNT_WORK_MEM = "64MB"


@dataclass
class DayFigures:
    """What one project-day holds in the database."""

    day: date
    runs: int = 0
    traces: int = 0
    feedback_status: dict[str, int] = field(default_factory=dict)  # fetched / none / not_fetched / unknown
    feedback_records: int = 0
    runs_with_feedback: int = 0  # distinct runs the day's feedback rows are about
    verdicts: dict[str, int] = field(default_factory=dict)  # verdict -> records carrying it
    criteria: dict[str, dict[str, int]] = field(default_factory=dict)  # verdict -> criterion -> true count


# --- counting from the rows ------------------------------------------------------------

_PG_VERDICTS = text(
    """
    SELECT run_date, CASE WHEN jsonb_typeof(value) = 'object' THEN value ->> 'verdict' END AS verdict, count(*) AS n
    FROM feedback WHERE project = :project AND run_date BETWEEN :first AND :last
    GROUP BY 1, 2
    """
)
_SQLITE_VERDICTS = text(
    """
    SELECT run_date, CASE WHEN json_type(value) = 'object' THEN json_extract(value, '$.verdict') END AS verdict,
           count(*) AS n
    FROM feedback WHERE project = :project AND run_date BETWEEN :first AND :last
    GROUP BY 1, 2
    """
)
_RUNS_WITH_FEEDBACK = text(
    """
    SELECT run_date, count(DISTINCT run_id) FROM feedback
    WHERE project = :project AND run_date BETWEEN :first AND :last GROUP BY 1
    """
)
# The criteria are counted per distinct (day, verdict, rationale) first: reviewers' rationales
# are a few booleans, so 100,000 records hold a few hundred distinct ones, and expanding
# each of those once (rather than every record's) halves the refresh's costliest query.
_PG_CRITERIA = text(
    """
    WITH reviews AS (
        SELECT run_date, value ->> 'verdict' AS verdict, value -> 'rationale' AS rationale, count(*) AS n
        FROM feedback
        WHERE project = :project AND run_date BETWEEN :first AND :last
          AND jsonb_typeof(value) = 'object' AND value ->> 'verdict' IS NOT NULL
          AND jsonb_typeof(value -> 'rationale') = 'object'
        GROUP BY 1, 2, 3
    )
    SELECT reviews.run_date, reviews.verdict, c.key AS criterion, sum(reviews.n) AS n
    FROM reviews, jsonb_each(reviews.rationale) AS c
    WHERE c.value = 'true'::jsonb
    GROUP BY 1, 2, 3
    """
)
_SQLITE_CRITERIA = text(
    """
    WITH reviews AS (
        SELECT run_date, json_extract(value, '$.verdict') AS verdict, json_extract(value, '$.rationale') AS rationale,
               count(*) AS n
        FROM feedback
        WHERE project = :project AND run_date BETWEEN :first AND :last
          AND json_type(value, '$.rationale') = 'object'
          AND json_extract(value, '$.verdict') IS NOT NULL
        GROUP BY 1, 2, 3
    )
    SELECT reviews.run_date, reviews.verdict, c.key AS criterion, sum(reviews.n) AS n
    FROM reviews, json_each(reviews.rationale) AS c
    WHERE c.type = 'true'
    GROUP BY 1, 2, 3
    """
)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _runs_by_day(project: str, first: date, last: date) -> Any:
    """Runs, traces and feedback status per day in one pass over the days' runs.

    A project-day's traces are those whose root run started that day (the archive's
    definition), so they are counted by their root runs: a sum in the same pass, where
    counting distinct trace ids would sort every run of the range."""
    r = RunRow
    return (
        select(
            r.run_date,
            func.sum(case((r.parent_run_id.is_(None), 1), else_=0)),
            func.count(),
            *(func.sum(case((r.feedback_status == s, 1), else_=0)) for s in FEEDBACK_STATUSES),
        )
        .where(r.project == project, r.run_date >= first, r.run_date <= last)
        .group_by(r.run_date)
    )


def count(
    conn: Connection, project: str, days: list[date], *, beside: Connection | None = None
) -> dict[date, DayFigures]:
    """The figures of these project-days counted from the rows, names in the stored form.

    A verdict is a feedback record whose value is an object with a `verdict` field; a run
    reviewed twice counts twice, as the reviewers gave two verdicts. Four queries for all
    the days together, each one range of the (project, run_date) indexes. `beside`: a
    second connection (same database, read committed) that counts the runs while `conn`
    runs the three feedback queries: on PostgreSQL each query is one backend's work, and
    the two halves take about as long, so two connections halve a load's closing refresh."""
    out = {d: DayFigures(day=d, feedback_status=dict.fromkeys(FEEDBACK_STATUSES, 0)) for d in days}
    if not days:
        return out
    pg = conn.dialect.name == "postgresql"
    first, last = min(days), max(days)  # one index range; days between that were not asked are skipped
    params = {"project": project, "first": first, "last": last}
    runs_query = _runs_by_day(project, first, last)
    verdicts_query = _PG_VERDICTS if pg else _SQLITE_VERDICTS
    criteria_query = _PG_CRITERIA if pg else _SQLITE_CRITERIA

    def feedback_counts(c: Connection) -> tuple[list[Any], list[Any], list[Any]]:
        return (
            list(c.execute(_RUNS_WITH_FEEDBACK, params)),
            list(c.execute(verdicts_query, params)),
            list(c.execute(criteria_query, params)),
        )

    if beside is None:
        runs = list(conn.execute(runs_query))
        with_feedback, verdicts, criteria = feedback_counts(conn)
    else:
        other = beside
        with ThreadPoolExecutor(1, thread_name_prefix="lse-figures") as pool:
            counted = pool.submit(lambda: list(other.execute(runs_query)))
            with_feedback, verdicts, criteria = feedback_counts(conn)
            runs = counted.result()
    for day, traces, n_runs, *by_status in runs:
        f = out.get(_as_date(day))
        if f is not None:
            f.runs, f.traces = int(n_runs or 0), int(traces or 0)
            f.feedback_status = {s: int(n or 0) for s, n in zip(FEEDBACK_STATUSES, by_status, strict=True)}
    for day, n in with_feedback:
        f = out.get(_as_date(day))
        if f is not None:
            f.runs_with_feedback = int(n)
    for day, verdict, n in verdicts:
        f = out.get(_as_date(day))
        if f is None:
            continue
        f.feedback_records += int(n)
        if verdict is not None:
            f.verdicts[str(verdict)] = f.verdicts.get(str(verdict), 0) + int(n)
    for day, verdict, criterion, n in criteria:
        f = out.get(_as_date(day))
        if f is not None:
            by = f.criteria.setdefault(str(verdict), {})
            by[str(criterion)] = by.get(str(criterion), 0) + int(n)
    return out


# --- the table -------------------------------------------------------------------------


def stored(conn: Connection, project: str, days: list[date]) -> dict[date, DayFigures]:
    """The figures rows of those days that have one (names still in the stored form)."""
    if not days:
        return {}
    t = DayFiguresRow
    rows = conn.execute(
        select(t.__table__).where(t.project == project, t.run_date >= min(days), t.run_date <= max(days))
    )
    wanted = set(days)
    return {
        _as_date(r.run_date): DayFigures(
            day=_as_date(r.run_date),
            runs=r.runs,
            traces=r.traces,
            feedback_status={s: int(r.feedback_status.get(s, 0)) for s in FEEDBACK_STATUSES},
            feedback_records=r.feedback_records,
            runs_with_feedback=r.runs_with_feedback,
            verdicts={str(k): int(v) for k, v in r.verdicts.items()},
            criteria={str(v): {str(c): int(n) for c, n in by.items()} for v, by in r.criteria.items()},
        )
        for r in rows
        if _as_date(r.run_date) in wanted
    }


def decoded(figures: DayFigures) -> DayFigures:
    """`figures` with verdict and criterion names as the records say them (stored form decoded)."""
    verdicts: dict[str, int] = {}
    for name, n in figures.verdicts.items():
        plain = str(decode_stored(name))
        verdicts[plain] = verdicts.get(plain, 0) + n
    criteria: dict[str, dict[str, int]] = {}
    for verdict, by in figures.criteria.items():
        acc = criteria.setdefault(str(decode_stored(verdict)), {})
        for name, n in by.items():
            plain = str(decode_stored(name))
            acc[plain] = acc.get(plain, 0) + n
    return DayFigures(
        day=figures.day,
        runs=figures.runs,
        traces=figures.traces,
        feedback_status=dict(figures.feedback_status),
        feedback_records=figures.feedback_records,
        runs_with_feedback=figures.runs_with_feedback,
        verdicts=verdicts,
        criteria=criteria,
    )


def _write(conn: Connection, project: str, figures: dict[date, DayFigures]) -> None:
    t = DayFiguresRow
    conn.execute(delete(t).where(t.project == project, t.run_date.in_(list(figures))))
    now = datetime.now(UTC)
    rows = [
        {
            "project": project,
            "run_date": f.day,
            "runs": f.runs,
            "traces": f.traces,
            "feedback_status": f.feedback_status,
            "feedback_records": f.feedback_records,
            "runs_with_feedback": f.runs_with_feedback,
            "verdicts": f.verdicts,
            "criteria": f.criteria,
            "computed_at": now,
        }
        for f in figures.values()
        if f.runs or f.feedback_records  # a day without rows has no figures row
    ]
    if rows:
        conn.execute(insert(t), rows)


def refresh(engine: Engine, project: str, days: set[date]) -> None:
    """Recompute the figures of these project-days from their rows (see the module doc).

    Runs as one transaction that no load batch of `project` can interleave with. On
    PostgreSQL half of the counting runs on a second connection (`count`), started once
    this transaction holds every load lock of the project: no batch of the project can
    commit until it ends, so both connections count the same rows."""
    if not days:
        return
    try:
        with engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock before the counts are read
                _write(conn, project, count(conn, project, sorted(days)))
                conn.commit()
                return
            # Read committed whatever the database's default: the counts must see every
            # batch committed before the locks below were granted.
            conn.execution_options(isolation_level="READ COMMITTED")
            from lse.store.upsert import SHARDS
            from lse.store.upsert.postgres import load_lock_name

            for shard in range(SHARDS):  # ascending, as every load batch takes them
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
                    {"name": load_lock_name(project, shard)},
                )
            with engine.connect() as beside:
                beside.execution_options(isolation_level="READ COMMITTED")
                for c in (conn, beside):
                    c.exec_driver_sql(f"SET LOCAL work_mem = '{COUNT_WORK_MEM}'")
                figures = count(conn, project, sorted(days), beside=beside)
            _write(conn, project, figures)
            conn.commit()
    except SQLAlchemyError as exc:
        raise database_error(exc, f"refreshing the figures of {project}") from exc
