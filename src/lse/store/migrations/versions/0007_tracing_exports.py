"""Tracing outbox: exports of evaluation runs and datasets to Langfuse and LangSmith.

Revision ID: 0007_tracing_exports
Revises: 0006_evaluation_batches

Four new tables and nothing else touched: a run's export (one row per destination), its
items, a dataset pushed to a destination, and that dataset's items. Every row carries the
remote ids lse chose, so a retry or a re-export addresses the same remote objects.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_tracing_exports"
down_revision = "0006_evaluation_batches"
branch_labels = None
depends_on = None

STATES = "state IN ('pending', 'sent', 'confirmed', 'failed')"
TARGETS = "target IN ('langfuse', 'langsmith')"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tracing_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=512), nullable=False),
        sa.Column("experiment_id", sa.String(length=64), nullable=True),
        sa.Column("experiment_name", sa.String(length=512), nullable=True),
        sa.Column("summary_score_id", sa.String(length=64), nullable=True),
        _ts("score_timestamp"),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("next_attempt_at"),
        _ts("first_sent_at"),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        _ts("lease_until"),
        _ts("created_at", False),
        _ts("updated_at", False),
        _ts("confirmed_at"),
        sa.CheckConstraint(TARGETS, name=op.f("ck_tracing_exports_target")),
        sa.CheckConstraint(STATES, name=op.f("ck_tracing_exports_state")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_tracing_exports_run_id_evaluation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_exports")),
        sa.UniqueConstraint("run_id", "destination", name=op.f("uq_tracing_exports_run_id_destination")),
    )
    op.create_index("ix_tracing_exports_state_next_attempt_at", "tracing_exports", ["state", "next_attempt_at"])
    op.create_table(
        "tracing_export_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("remote_trace_id", sa.String(length=64), nullable=False),
        sa.Column("remote_score_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("trace_confirmed", sa.Boolean(), nullable=False),
        sa.Column("score_confirmed", sa.Boolean(), nullable=False),
        sa.Column("remote_copies", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("sent_at"),
        _ts("confirmed_at"),
        sa.CheckConstraint(STATES, name=op.f("ck_tracing_export_items_state")),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["tracing_exports.id"],
            name=op.f("fk_tracing_export_items_export_id_tracing_exports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_tracing_export_items_run_id_evaluation_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evaluation_dataset_items.id"],
            name=op.f("fk_tracing_export_items_item_id_evaluation_dataset_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_export_items")),
        sa.UniqueConstraint("export_id", "item_id", name=op.f("uq_tracing_export_items_export_id_item_id")),
    )
    op.create_index("ix_tracing_export_items_run_id", "tracing_export_items", ["run_id"])
    op.create_table(
        "tracing_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=512), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("remote_name", sa.String(length=1024), nullable=False),
        sa.Column("export_key", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at", False),
        _ts("updated_at", False),
        sa.CheckConstraint(TARGETS, name=op.f("ck_tracing_datasets_target")),
        sa.CheckConstraint(STATES, name=op.f("ck_tracing_datasets_state")),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["evaluation_datasets.id"],
            name=op.f("fk_tracing_datasets_dataset_id_evaluation_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_datasets")),
        sa.UniqueConstraint("dataset_id", "destination", name=op.f("uq_tracing_datasets_dataset_id_destination")),
    )
    op.create_table(
        "tracing_dataset_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracing_dataset_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("pushed_at"),
        sa.CheckConstraint(STATES, name=op.f("ck_tracing_dataset_items_state")),
        sa.ForeignKeyConstraint(
            ["tracing_dataset_id"],
            ["tracing_datasets.id"],
            name=op.f("fk_tracing_dataset_items_tracing_dataset_id_tracing_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evaluation_dataset_items.id"],
            name=op.f("fk_tracing_dataset_items_item_id_evaluation_dataset_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_dataset_items")),
        sa.UniqueConstraint(
            "tracing_dataset_id", "item_id", name=op.f("uq_tracing_dataset_items_tracing_dataset_id_item_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("tracing_dataset_items")
    op.drop_table("tracing_datasets")
    op.drop_index("ix_tracing_export_items_run_id", table_name="tracing_export_items")
    op.drop_table("tracing_export_items")
    op.drop_index("ix_tracing_exports_state_next_attempt_at", table_name="tracing_exports")
    op.drop_table("tracing_exports")
