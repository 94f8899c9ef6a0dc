"""Per project-day figures in a table, filled from the rows of every day already loaded.

Revision ID: 0008_day_figures
Revises: 0007_tracing_exports

The archive viewer's summary of a range read every run of the range and expanded every
verdict's JSON (about two unindexed scans on a million runs). `day_figures` holds a row
per project-day — runs, traces (root runs), runs by feedback status, feedback records,
runs with feedback, verdict counts and the rationale criteria true on each verdict —
which every load keeps exact (lse/store/day_figures.py). This revision counts them for
the days already in the database, with the same definitions, in one pass per query over
the tables. Names stay in the stored form of the feedback rows.
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_day_figures"
down_revision = "0007_tracing_exports"
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
STATUSES = ("fetched", "none", "not_fetched", "unknown")

_RUNS = """
SELECT project, run_date, count(*), sum(CASE WHEN parent_run_id IS NULL THEN 1 ELSE 0 END),
       {statuses}
FROM runs GROUP BY project, run_date
"""
_WITH_FEEDBACK = "SELECT project, run_date, count(DISTINCT run_id) FROM feedback GROUP BY project, run_date"
_VERDICTS = {
    "postgresql": """
        SELECT project, run_date, CASE WHEN jsonb_typeof(value) = 'object' THEN value ->> 'verdict' END, count(*)
        FROM feedback GROUP BY 1, 2, 3""",
    "sqlite": """
        SELECT project, run_date, CASE WHEN json_type(value) = 'object' THEN json_extract(value, '$.verdict') END,
               count(*)
        FROM feedback GROUP BY 1, 2, 3""",
}
_CRITERIA = {
    "postgresql": """
        SELECT f.project, f.run_date, f.value ->> 'verdict', c.key, count(*)
        FROM feedback f,
             jsonb_each(CASE WHEN jsonb_typeof(f.value -> 'rationale') = 'object'
                             THEN f.value -> 'rationale' ELSE '{}'::jsonb END) AS c
        WHERE jsonb_typeof(f.value) = 'object' AND f.value ->> 'verdict' IS NOT NULL AND c.value = 'true'::jsonb
        GROUP BY 1, 2, 3, 4""",
    "sqlite": """
        SELECT f.project, f.run_date, json_extract(f.value, '$.verdict'), c.key, count(*)
        FROM feedback f, json_each(f.value, '$.rationale') AS c
        WHERE json_type(f.value, '$.rationale') = 'object' AND json_extract(f.value, '$.verdict') IS NOT NULL
          AND c.type = 'true'
        GROUP BY 1, 2, 3, 4""",
}


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def upgrade() -> None:
    table = op.create_table(
        "day_figures",
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("traces", sa.Integer(), nullable=False),
        sa.Column("feedback_status", JSONDoc, nullable=False),
        sa.Column("feedback_records", sa.Integer(), nullable=False),
        sa.Column("runs_with_feedback", sa.Integer(), nullable=False),
        sa.Column("verdicts", JSONDoc, nullable=False),
        sa.Column("criteria", JSONDoc, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "run_date", name="pk_day_figures"),
    )
    bind = op.get_bind()
    dialect = bind.dialect.name
    days: dict[tuple[str, date], dict[str, Any]] = defaultdict(
        lambda: {
            "runs": 0,
            "traces": 0,
            "feedback_status": dict.fromkeys(STATUSES, 0),
            "feedback_records": 0,
            "runs_with_feedback": 0,
            "verdicts": {},
            "criteria": {},
        }
    )
    statuses = ", ".join(f"sum(CASE WHEN feedback_status = '{s}' THEN 1 ELSE 0 END)" for s in STATUSES)
    for project, day, runs, traces, *by_status in bind.execute(sa.text(_RUNS.format(statuses=statuses))):
        f = days[(project, _day(day))]
        f["runs"], f["traces"] = int(runs), int(traces or 0)
        f["feedback_status"] = {s: int(n or 0) for s, n in zip(STATUSES, by_status, strict=True)}
    for project, day, n in bind.execute(sa.text(_WITH_FEEDBACK)):
        days[(project, _day(day))]["runs_with_feedback"] = int(n)
    for project, day, verdict, n in bind.execute(sa.text(_VERDICTS[dialect])):
        f = days[(project, _day(day))]
        f["feedback_records"] += int(n)
        if verdict is not None:
            f["verdicts"][str(verdict)] = f["verdicts"].get(str(verdict), 0) + int(n)
    for project, day, verdict, criterion, n in bind.execute(sa.text(_CRITERIA[dialect])):
        by = days[(project, _day(day))]["criteria"].setdefault(str(verdict), {})
        by[str(criterion)] = by.get(str(criterion), 0) + int(n)
    now = datetime.now(UTC)
    rows = [{"project": p, "run_date": d, **f, "computed_at": now} for (p, d), f in days.items()]
    for i in range(0, len(rows), 1000):
        op.bulk_insert(table, rows[i : i + 1000])


def downgrade() -> None:
    op.drop_table("day_figures")
