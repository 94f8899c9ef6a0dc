"""Archive tables: runs, feedback, fetch_records.

Revision ID: 0001_archive
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_archive"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the types at this revision (never import models into a migration).
JSONDoc = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("trace_id", sa.String(), nullable=True),
        sa.Column("parent_run_id", sa.String(), nullable=True),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("start_time", TZ, nullable=True),
        sa.Column("feedback_status", sa.String(16), nullable=False),
        sa.Column("data", JSONDoc, nullable=False),
        sa.Column("data_encoding", sa.String(16), nullable=True),
        sa.Column("loaded_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
    )
    op.create_index("ix_runs_trace_id", "runs", ["trace_id"])
    op.create_index("ix_runs_project_run_date", "runs", ["project", "run_date"])

    op.create_table(
        "feedback",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("feedback_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("trace_id", sa.String(), nullable=True),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("value", JSONDoc, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("correction", JSONDoc, nullable=True),
        sa.Column("source", JSONDoc, nullable=True),
        sa.Column("created_at", TZ, nullable=True),
        sa.Column("modified_at", TZ, nullable=True),
        sa.Column("encoding", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.UniqueConstraint("feedback_id", name="uq_feedback_feedback_id"),
    )
    op.create_index("ix_feedback_run_id", "feedback", ["run_id"])
    op.create_index("ix_feedback_project_created_at", "feedback", ["project", "created_at"])
    op.create_index("ix_feedback_project_run_date", "feedback", ["project", "run_date"])

    op.create_table(
        "fetch_records",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("counts", JSONDoc, nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("tool_version", sa.String(64), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("details", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fetch_records"),
    )
    op.create_index("ix_fetch_records_project_day", "fetch_records", ["project", "day"])
    op.create_index("ix_fetch_records_started_at", "fetch_records", ["started_at"])

    if op.get_bind().dialect.name == "postgresql":
        # jsonb_path_ops: about half the size of jsonb_ops and cheaper to maintain; it
        # serves `@>` containment, the operator the queries use. The pending list keeps
        # its default size: a bigger one only defers the merging (to vacuum or to the
        # next query, which scans it), while the loader makes each merge cheap instead
        # (`SET LOCAL work_mem`, lse.store.upsert.postgres).
        op.create_index(
            "ix_runs_data_gin",
            "runs",
            ["data"],
            postgresql_using="gin",
            postgresql_ops={"data": "jsonb_path_ops"},
        )
        op.create_index(
            "ix_feedback_value_gin",
            "feedback",
            ["value"],
            postgresql_using="gin",
            postgresql_ops={"value": "jsonb_path_ops"},
        )


def downgrade() -> None:
    op.drop_table("fetch_records")
    op.drop_table("feedback")
    op.drop_table("runs")
