"""Questions the archive exists to answer, as single indexed queries on `feedback`.

Feedback values carry `{"verdict": "PASS"|"FAIL", "rationale": {factor: bool, ...}}`.
On PostgreSQL the verdict/factor filter is one JSONB containment (`value @> …`),
served by the GIN index on `feedback.value`; on SQLite it is json_extract under the
(project, created_at) index. Strings stored escaped (docs/storage.md) are decoded on
the way out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, Select, func, select, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from lse.records.timestamps import as_utc
from lse.store.errors import translated
from lse.store.models.archive import FeedbackRow
from lse.store.stored_form import decode_stored


class FeedbackHit(BaseModel):
    feedback_id: str
    run_id: str
    trace_id: str | None
    project: str
    run_date: date
    key: str | None
    score: float | None
    comment: str | None
    value: Any
    created_at: datetime | None


class VerdictSummary(BaseModel):
    project: str
    day: date
    feedback_records: int
    verdicts: dict[str, int]
    top_true_factors: list[tuple[str, int]]


def verdicts_with_factor(
    engine: Engine,
    *,
    verdict: str = "FAIL",
    factor: str = "criteria_a",
    since: datetime | None = None,
    until: datetime | None = None,
    project: str | None = None,
    key: str | None = None,
    limit: int | None = None,
) -> list[FeedbackHit]:
    """Feedback with `verdict` whose `rationale.<factor>` is true, created in [since, until).

    Default window: the last 7 days. "All FAIL verdicts where rationale.criteria_a is
    true last week" is `verdicts_with_factor(engine)`.
    """
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=7)
    stmt = verdicts_statement(
        engine.dialect.name,
        verdict=verdict,
        factor=factor,
        since=since,
        until=until,
        project=project,
        key=key,
        limit=limit,
    )
    with translated("querying feedback verdicts"), engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [_hit(r) for r in rows]


def verdicts_statement(
    dialect: str,
    *,
    verdict: str,
    factor: str,
    since: datetime,
    until: datetime,
    project: str | None = None,
    key: str | None = None,
    limit: int | None = None,
) -> Select[Any]:
    """The SELECT behind `verdicts_with_factor`, apart so a test can EXPLAIN it (the GIN
    index on feedback.value must serve it on PostgreSQL)."""
    fb = FeedbackRow
    if dialect == "postgresql":
        # type_coerce: the column is the JSON/JSONB variant; containment is JSONB's operator.
        match = type_coerce(fb.value, JSONB).contains({"verdict": verdict, "rationale": {factor: True}})
    else:
        match = (func.json_extract(fb.value, "$.verdict") == verdict) & (
            func.json_type(fb.value, f'$.rationale."{_json_path_key(factor)}"') == "true"
        )
    since, until = since.astimezone(UTC), until.astimezone(UTC)  # SQLite keeps wall-clock UTC
    stmt = (
        select(fb.__table__)
        .where(match, fb.created_at >= since, fb.created_at < until)
        .order_by(fb.created_at, fb.feedback_id)
    )
    if project is not None:
        stmt = stmt.where(fb.project == project)
    if key is not None:
        stmt = stmt.where(fb.key == key)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def verdict_summary(engine: Engine, project: str, day: date, *, top: int = 5) -> VerdictSummary:
    """Verdict counts and the most frequent true rationale factors of one project-day."""
    fb = FeedbackRow
    day_filter = (fb.project == project) & (fb.run_date == day)
    verdict = fb.value["verdict"].as_string()
    if engine.dialect.name == "postgresql":
        factors_sql = text(
            """
            SELECT f.key AS factor, count(*) AS n
            FROM feedback,
                 jsonb_each(CASE WHEN jsonb_typeof(feedback.value -> 'rationale') = 'object'
                                 THEN feedback.value -> 'rationale' ELSE '{}'::jsonb END) AS f
            WHERE feedback.project = :project AND feedback.run_date = :day
              AND f.value = 'true'::jsonb
            GROUP BY f.key ORDER BY n DESC, f.key LIMIT :top
            """
        )
    else:
        factors_sql = text(
            """
            SELECT j.key AS factor, count(*) AS n
            FROM feedback, json_each(feedback.value, '$.rationale') AS j
            WHERE feedback.project = :project AND feedback.run_date = :day
              AND json_type(feedback.value, '$.rationale') = 'object' AND j.type = 'true'
            GROUP BY j.key ORDER BY n DESC, j.key LIMIT :top
            """
        )
    with translated(f"summarising verdicts of {project} {day}"), engine.connect() as conn:
        total = conn.execute(select(func.count()).where(day_filter)).scalar_one()
        verdicts = {
            (decode_stored(v) if v is not None else "(none)"): n
            for v, n in conn.execute(select(verdict, func.count()).where(day_filter).group_by(verdict))
        }
        factors = [
            (str(decode_stored(k)), int(n))
            for k, n in conn.execute(factors_sql, {"project": project, "day": day, "top": top})
        ]
    return VerdictSummary(project=project, day=day, feedback_records=total, verdicts=verdicts, top_true_factors=factors)


def _hit(row: Any) -> FeedbackHit:
    encoded = bool(row["encoding"])
    created = row["created_at"]
    return FeedbackHit(
        feedback_id=row["feedback_id"],
        run_id=row["run_id"],
        trace_id=row["trace_id"],
        project=row["project"],
        run_date=row["run_date"],
        key=decode_stored(row["key"]) if encoded else row["key"],
        score=row["score"],
        comment=decode_stored(row["comment"]) if encoded else row["comment"],
        value=decode_stored(row["value"]) if encoded else row["value"],
        created_at=None if created is None else as_utc(created),
    )


def _json_path_key(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')
