"""Read queries behind the archive viewer: per project-day figures, filtered run lists, one run.

Every query is bounded by an index so it stays fast however large the archive grows:

- which projects and days exist: a *loose index scan* of `ix_runs_project_run_date`
  (a recursive "next distinct value" query, one index probe per day), never a scan of
  the runs;
- the figures of a day (runs, traces, feedback status, verdicts, rationale criteria):
  one index range of `ix_runs_project_run_date` / `ix_feedback_project_run_date`. The
  viewer asks for them day by day, so a day's figures can be kept until that day is
  loaded again (`load_marks` names the newest load of each day);
- a page of runs: the same range, keyset-paginated on (run_date, id); with a verdict
  or criterion filter, the matching feedback rows (the GIN index on `feedback.value`
  on PostgreSQL) decide which runs qualify;
- one run, its trace and its feedback: `runs.run_id` (unique), `runs.trace_id` and
  `feedback.run_id`.

Strings stored escaped (docs/storage.md) are decoded on the way out, and filter values
are escaped the same way on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Engine, String, and_, case, func, or_, select, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError

from lse.records import FeedbackStatus
from lse.store.errors import database_error
from lse.store.models.archive import FeedbackRow, FetchRecordRow, RunRow
from lse.store.stored_form import decode_stored, encode_text

FEEDBACK_STATUSES = tuple(s.value for s in FeedbackStatus)
MAX_TRACE_RUNS = 2000  # a trace page shows at most this many runs of the trace
_CHUNK = 500  # ids per IN (...) list


@dataclass
class DayFigures:
    """What one project-day holds in the database."""

    day: date
    runs: int = 0
    traces: int = 0
    feedback_status: dict[str, int] = field(default_factory=dict)  # fetched / none / not_fetched / unknown
    feedback_records: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)  # verdict -> records carrying it
    criteria: dict[str, dict[str, int]] = field(default_factory=dict)  # verdict -> criterion -> true count


@dataclass
class FeedbackView:
    feedback_id: str
    run_id: str
    key: str | None
    score: float | None
    value: Any
    comment: str | None
    correction: Any
    source: Any
    created_at: datetime | None
    modified_at: datetime | None

    @property
    def verdict(self) -> str | None:
        v = self.value.get("verdict") if isinstance(self.value, dict) else None
        return str(v) if v is not None else None

    @property
    def criteria_true(self) -> list[str]:
        rationale = self.value.get("rationale") if isinstance(self.value, dict) else None
        return [str(k) for k, v in rationale.items() if v is True] if isinstance(rationale, dict) else []


@dataclass
class RunView:
    """One stored run, decoded, with the columns kept beside it."""

    run_id: str
    trace_id: str | None
    parent_run_id: str | None
    project: str
    run_date: date
    start_time: datetime | None
    feedback_status: str
    data: dict[str, Any]
    feedback: list[FeedbackView] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.data.get("name") or "")

    @property
    def run_type(self) -> str:
        return str(self.data.get("run_type") or "")

    @property
    def status(self) -> str:
        if self.data.get("error"):
            return "error"
        return str(self.data.get("status") or "")


@dataclass
class RunsPage:
    runs: list[RunView]
    next_cursor: tuple[date, int] | None


def _query_error(exc: SQLAlchemyError, doing: str):
    return database_error(exc, doing)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- what exists ----------------------------------------------------------------------

_NEXT_PROJECT = text(
    """
    WITH RECURSIVE p(project) AS (
        SELECT min(project) FROM runs
        UNION ALL
        SELECT (SELECT min(r.project) FROM runs r WHERE r.project > p.project) FROM p WHERE p.project IS NOT NULL
    )
    SELECT project FROM p WHERE project IS NOT NULL
    """
).columns(project=String)

_NEXT_DAY = text(
    """
    WITH RECURSIVE d(day) AS (
        SELECT min(run_date) FROM runs WHERE project = :project AND run_date >= :start AND run_date <= :end
        UNION ALL
        SELECT (SELECT min(r.run_date) FROM runs r
                WHERE r.project = :project AND r.run_date > d.day AND r.run_date <= :end)
        FROM d WHERE d.day IS NOT NULL
    )
    SELECT day FROM d WHERE day IS NOT NULL
    """
).columns(day=Date)


def archive_projects(engine: Engine) -> list[str]:
    """Every project with runs in the database, one index probe per project."""
    try:
        with engine.connect() as conn:
            return [str(p) for p in conn.execute(_NEXT_PROJECT).scalars()]
    except SQLAlchemyError as exc:
        raise _query_error(exc, "listing archived projects") from exc


def archived_days(engine: Engine, project: str, start: date = date.min, end: date = date.max) -> list[date]:
    """The days of `project` in [start, end] that hold runs, one index probe per day."""
    params = {"project": project, "start": max(start, date(1, 1, 2)), "end": min(end, date(9999, 12, 30))}
    try:
        with engine.connect() as conn:
            return [_as_date(d) for d in conn.execute(_NEXT_DAY, params).scalars()]
    except SQLAlchemyError as exc:
        raise _query_error(exc, f"listing archived days of {project}") from exc


def last_day(engine: Engine, project: str) -> date | None:
    """The newest day of `project` that holds runs (one probe of the index's end)."""
    try:
        with engine.connect() as conn:
            day = conn.execute(select(func.max(RunRow.run_date)).where(RunRow.project == project)).scalar()
    except SQLAlchemyError as exc:
        raise _query_error(exc, f"finding the newest day of {project}") from exc
    return _as_date(day) if day is not None else None


def load_marks(engine: Engine, project: str, start: date, end: date) -> dict[date, int]:
    """The id of the newest database load of each day in [start, end].

    Every write of a project-day into the database is a load that records itself when it
    ends (`lse.store.loader.load_day`), so figures computed for a day stay true until
    this id changes."""
    fr = FetchRecordRow
    stmt = (
        select(fr.day, func.max(fr.id))
        .where(fr.project == project, fr.day >= start, fr.day <= end, fr.kind == "load")
        .group_by(fr.day)
    )
    try:
        with engine.connect() as conn:
            return {_as_date(d): int(i) for d, i in conn.execute(stmt)}
    except SQLAlchemyError as exc:
        raise _query_error(exc, f"reading load records of {project}") from exc


# --- the figures of one day -------------------------------------------------------------

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
_PG_CRITERIA = text(
    """
    SELECT feedback.run_date, feedback.value ->> 'verdict' AS verdict, c.key AS criterion, count(*) AS n
    FROM feedback,
         jsonb_each(CASE WHEN jsonb_typeof(feedback.value -> 'rationale') = 'object'
                         THEN feedback.value -> 'rationale' ELSE '{}'::jsonb END) AS c
    WHERE feedback.project = :project AND feedback.run_date BETWEEN :first AND :last
      AND jsonb_typeof(feedback.value) = 'object' AND feedback.value ->> 'verdict' IS NOT NULL
      AND c.value = 'true'::jsonb
    GROUP BY 1, 2, 3
    """
)
_SQLITE_CRITERIA = text(
    """
    SELECT feedback.run_date, json_extract(feedback.value, '$.verdict') AS verdict, c.key AS criterion, count(*) AS n
    FROM feedback, json_each(feedback.value, '$.rationale') AS c
    WHERE feedback.project = :project AND feedback.run_date BETWEEN :first AND :last
      AND json_type(feedback.value, '$.rationale') = 'object'
      AND json_extract(feedback.value, '$.verdict') IS NOT NULL
      AND c.type = 'true'
    GROUP BY 1, 2, 3
    """
)


def _runs_by_day(project: str, first: date, last: date) -> Any:
    """Runs, traces and feedback status per day in one pass over the days' runs.

    A project-day's traces are those whose root run started that day (the archive's
    definition), so they are counted by their root runs: a sum in the same pass, where
    counting distinct trace ids would sort every run of the range (about 3x slower on
    a million runs, bench/bench_viewer.py)."""
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


def days_figures(engine: Engine, project: str, days: list[date]) -> dict[date, DayFigures]:
    """Runs, traces, feedback status, verdicts and true rationale criteria of project-days.

    A verdict is a feedback record whose value is an object with a `verdict` field; a run
    reviewed twice counts twice, as the reviewers gave two verdicts. Three queries for
    all the days together, each one range of the (project, run_date) indexes."""
    out = {d: DayFigures(day=d) for d in days}
    if not days:
        return out
    pg = engine.dialect.name == "postgresql"
    first, last = min(days), max(days)  # one index range; days between that were not asked are skipped
    params = {"project": project, "first": first, "last": last}
    try:
        with engine.connect() as conn:
            for day, traces, runs, *by_status in conn.execute(_runs_by_day(project, first, last)):
                f = out.get(_as_date(day))
                if f is None:
                    continue
                f.runs, f.traces = int(runs or 0), int(traces or 0)
                f.feedback_status = {s: int(n or 0) for s, n in zip(FEEDBACK_STATUSES, by_status, strict=True)}
            for day, verdict, n in conn.execute(_PG_VERDICTS if pg else _SQLITE_VERDICTS, params):
                f = out.get(_as_date(day))
                if f is None:
                    continue
                f.feedback_records += int(n)
                if verdict is not None:
                    name = str(decode_stored(verdict))
                    f.verdicts[name] = f.verdicts.get(name, 0) + int(n)
            for day, verdict, criterion, n in conn.execute(_PG_CRITERIA if pg else _SQLITE_CRITERIA, params):
                if _as_date(day) not in out:
                    continue
                by = out[_as_date(day)].criteria.setdefault(str(decode_stored(verdict)), {})
                name = str(decode_stored(criterion))
                by[name] = by.get(name, 0) + int(n)
    except SQLAlchemyError as exc:
        raise _query_error(exc, f"summarising {project} {days[0]}..{days[-1]}") from exc
    for f in out.values():
        f.feedback_status = f.feedback_status or dict.fromkeys(FEEDBACK_STATUSES, 0)
    return out


def day_figures(engine: Engine, project: str, day: date) -> DayFigures:
    """The figures of one project-day (`days_figures` for one day)."""
    return days_figures(engine, project, [day])[day]


# --- lists of runs ----------------------------------------------------------------------


def feedback_match(dialect: str, verdict: str | None, criterion: str | None) -> Any:
    """The condition on `feedback.value` for a verdict and/or a criterion that is true in
    the same record: JSONB containment (GIN-indexed) on PostgreSQL, json_extract on SQLite."""
    fb = FeedbackRow
    v = encode_text(verdict)[0] if verdict is not None else None
    c = encode_text(criterion)[0] if criterion is not None else None
    if dialect == "postgresql":
        pattern: dict[str, Any] = {}
        if v is not None:
            pattern["verdict"] = v
        if c is not None:
            pattern["rationale"] = {c: True}
        return type_coerce(fb.value, JSONB).contains(pattern)
    conds = []
    if v is not None:
        conds.append(func.json_extract(fb.value, "$.verdict") == v)
    if c is not None:
        key = c.replace("\\", "\\\\").replace('"', '\\"')
        conds.append(func.json_type(fb.value, f'$.rationale."{key}"') == "true")
    return and_(*conds)


def runs_page_statement(
    dialect: str,
    project: str,
    start: date,
    end: date,
    *,
    verdict: str | None = None,
    criterion: str | None = None,
    roots_only: bool = True,
    cursor: tuple[date, int] | None = None,
    limit: int = 50,
) -> Any:
    """The SELECT of one page's (run_date, id), newest day first; apart so a test and the
    benchmark can EXPLAIN it."""
    r, fb = RunRow, FeedbackRow
    stmt = select(r.id, r.run_date).where(r.project == project, r.run_date >= start, r.run_date <= end)
    if roots_only:
        stmt = stmt.where(r.parent_run_id.is_(None))
    if verdict is not None or criterion is not None:
        matching = select(fb.run_id).where(
            fb.project == project,
            fb.run_date >= start,
            fb.run_date <= end,
            feedback_match(dialect, verdict, criterion),
        )
        stmt = stmt.where(r.run_id.in_(matching))
    if cursor is not None:
        day, last_id = cursor
        stmt = stmt.where(or_(r.run_date < day, and_(r.run_date == day, r.id < last_id)))
    return stmt.order_by(r.run_date.desc(), r.id.desc()).limit(limit + 1)


def runs_page(
    engine: Engine,
    project: str,
    start: date,
    end: date,
    *,
    verdict: str | None = None,
    criterion: str | None = None,
    roots_only: bool = True,
    cursor: tuple[date, int] | None = None,
    limit: int = 50,
) -> RunsPage:
    """One page of runs (newest day first) with their feedback, and the cursor of the next."""
    stmt = runs_page_statement(
        engine.dialect.name,
        project,
        start,
        end,
        verdict=verdict,
        criterion=criterion,
        roots_only=roots_only,
        cursor=cursor,
        limit=limit,
    )
    try:
        with engine.connect() as conn:
            keys = [(int(i), _as_date(d)) for i, d in conn.execute(stmt)]
            more = len(keys) > limit
            keys = keys[:limit]
            runs = _runs_by_id(conn, [i for i, _ in keys])
            _attach_feedback(conn, runs)
    except SQLAlchemyError as exc:
        raise _query_error(exc, f"listing runs of {project}") from exc
    by_id = dict(runs)
    ordered = [by_id[i] for i, _ in keys if i in by_id]
    next_cursor = (keys[-1][1], keys[-1][0]) if more and keys else None
    return RunsPage(runs=ordered, next_cursor=next_cursor)


_RUN_COLUMNS = (
    RunRow.id,
    RunRow.run_id,
    RunRow.trace_id,
    RunRow.parent_run_id,
    RunRow.project,
    RunRow.run_date,
    RunRow.start_time,
    RunRow.feedback_status,
    RunRow.data,
    RunRow.data_encoding,
)


def _run_view(row: Any) -> RunView:
    data = decode_stored(row.data) if row.data_encoding else row.data
    return RunView(
        run_id=row.run_id,
        trace_id=row.trace_id,
        parent_run_id=row.parent_run_id,
        project=row.project,
        run_date=_as_date(row.run_date),
        start_time=_utc(row.start_time),
        feedback_status=row.feedback_status,
        data=data if isinstance(data, dict) else {},
    )


def _runs_by_id(conn: Any, ids: list[int]) -> list[tuple[int, RunView]]:
    out = []
    for i in range(0, len(ids), _CHUNK):
        for row in conn.execute(select(*_RUN_COLUMNS).where(RunRow.id.in_(ids[i : i + _CHUNK]))):
            out.append((int(row.id), _run_view(row)))
    return out


def _feedback_view(row: Any) -> FeedbackView:
    enc = bool(row.encoding)

    def plain(value: Any) -> Any:
        return decode_stored(value) if enc and value is not None else value

    return FeedbackView(
        feedback_id=row.feedback_id,
        run_id=row.run_id,
        key=plain(row.key),
        score=row.score,
        value=plain(row.value),
        comment=plain(row.comment),
        correction=plain(row.correction),
        source=plain(row.source),
        created_at=_utc(row.created_at),
        modified_at=_utc(row.modified_at),
    )


def _attach_feedback(conn: Any, runs: list[tuple[int, RunView]]) -> None:
    by_run = {v.run_id: v for _, v in runs}
    ids = list(by_run)
    fb = FeedbackRow
    for i in range(0, len(ids), _CHUNK):
        stmt = (
            select(fb.__table__)
            .where(fb.run_id.in_(ids[i : i + _CHUNK]))
            .order_by(func.coalesce(fb.created_at, fb.modified_at), fb.feedback_id)
        )
        for row in conn.execute(stmt):
            by_run[row.run_id].feedback.append(_feedback_view(row))


# --- one run and its trace ----------------------------------------------------------------


def run_with_feedback(engine: Engine, run_id: str) -> RunView | None:
    """The run with this id and its native feedback records, or None."""
    try:
        with engine.connect() as conn:
            row = conn.execute(select(*_RUN_COLUMNS).where(RunRow.run_id == run_id)).first()
            if row is None:
                return None
            runs = [(int(row.id), _run_view(row))]
            _attach_feedback(conn, runs)
            return runs[0][1]
    except SQLAlchemyError as exc:
        raise _query_error(exc, f"reading run {run_id}") from exc


def trace_runs(engine: Engine, project: str, trace_id: str, limit: int = MAX_TRACE_RUNS) -> list[RunView]:
    """The runs of one trace in `project` (at most `limit`), with their feedback, by start time."""
    r = RunRow
    stmt = select(*_RUN_COLUMNS).where(r.trace_id == trace_id, r.project == project).limit(limit)
    try:
        with engine.connect() as conn:
            runs = [(int(row.id), _run_view(row)) for row in conn.execute(stmt)]
            _attach_feedback(conn, runs)
    except SQLAlchemyError as exc:
        raise _query_error(exc, f"reading trace {trace_id}") from exc
    views = [v for _, v in runs]
    views.sort(key=lambda v: (str(v.data.get("dotted_order") or ""), v.start_time or datetime.min.replace(tzinfo=UTC)))
    return views
