"""Batch mode: provider batches and their requests; runs may end `cancelled`.

Revision ID: 0006_evaluation_batches
Revises: 0005_run_trace_seed

`evaluation_batches` holds one row per provider batch (written before any remote call and
updated after each), `evaluation_batch_requests` one row per line of its request file.
A run whose user cancelled it ends `cancelled`: neither a success nor a failure.

Widening the runs' status CHECK makes SQLite rebuild `evaluation_runs` (copy, drop,
rename). lse migrates SQLite with foreign keys off (store/engine.py) and checks every key
afterwards, so the DROP cascades to no child row (jobs, item results) and nothing needs
setting aside.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0006_evaluation_batches"
down_revision = "0005_run_trace_seed"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'processing', 'completed', 'failed')"
NEW_STATUSES = "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _set_run_statuses(check: str) -> None:
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.drop_constraint(op.f("ck_evaluation_runs_status"), type_="check")
        batch.create_check_constraint("status", check)


def upgrade() -> None:
    _set_run_statuses(NEW_STATUSES)
    op.create_table(
        "evaluation_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("provider_status", sa.String(length=32), nullable=True),
        sa.Column("request_key", sa.String(length=1024), nullable=False),
        sa.Column("request_url", sa.String(length=1024), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("request_bytes", sa.BigInteger(), nullable=False),
        sa.Column("n_requests", sa.Integer(), nullable=False),
        sa.Column("est_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("input_file_id", sa.String(length=255), nullable=True),
        sa.Column("provider_batch_id", sa.String(length=255), nullable=True),
        sa.Column("output_file_id", sa.String(length=255), nullable=True),
        sa.Column("error_file_id", sa.String(length=255), nullable=True),
        sa.Column("output_key", sa.String(length=1024), nullable=True),
        sa.Column("output_url", sa.String(length=1024), nullable=True),
        sa.Column("error_key", sa.String(length=1024), nullable=True),
        sa.Column("error_url", sa.String(length=1024), nullable=True),
        sa.Column("request_counts", JSONDoc, nullable=True),
        sa.Column("usage", JSONDoc, nullable=True),
        sa.Column("errors", JSONDoc, nullable=True),
        sa.Column("anomalies", JSONDoc, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        _ts("expires_at"),
        _ts("created_at", nullable=False),
        _ts("upload_attempted_at"),
        _ts("uploaded_at"),
        _ts("create_attempted_at"),
        _ts("submitted_at"),
        _ts("cancel_requested_at"),
        _ts("terminal_at"),
        _ts("collected_at"),
        _ts("next_poll_at"),
        _ts("last_polled_at"),
        sa.Column("poll_failures", sa.Integer(), nullable=False),
        sa.Column("last_poll_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        _ts("lease_until"),
        _ts("updated_at", nullable=False),
        sa.CheckConstraint("stage IN ('responses', 'embeddings')", name=op.f("ck_evaluation_batches_stage")),
        sa.CheckConstraint(
            "state IN ('prepared', 'uploaded', 'submitted', 'terminal', 'collected', 'abandoned')",
            name=op.f("ck_evaluation_batches_state"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_evaluation_batches_run_id_evaluation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_batches")),
        sa.UniqueConstraint("client_key", name=op.f("uq_evaluation_batches_client_key")),
        sa.UniqueConstraint("provider_batch_id", name=op.f("uq_evaluation_batches_provider_batch_id")),
        sa.UniqueConstraint(
            "run_id", "stage", "round", "part", name=op.f("uq_evaluation_batches_run_id_stage_round_part")
        ),
    )
    op.create_index(
        "ix_evaluation_batches_state_next_poll_at", "evaluation_batches", ["state", "next_poll_at"], unique=False
    )
    op.create_table(
        "evaluation_batch_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("custom_id", sa.String(length=128), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("usage", JSONDoc, nullable=True),
        sa.Column("response_id", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('succeeded', 'failed', 'retry', 'not_executed', 'missing')",
            name=op.f("ck_evaluation_batch_requests_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["evaluation_batches.id"],
            name=op.f("fk_evaluation_batch_requests_batch_id_evaluation_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evaluation_dataset_items.id"],
            name=op.f("fk_evaluation_batch_requests_item_id_evaluation_dataset_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_batch_requests")),
        sa.UniqueConstraint("batch_id", "custom_id", name=op.f("uq_evaluation_batch_requests_batch_id_custom_id")),
        sa.UniqueConstraint("batch_id", "line_no", name=op.f("uq_evaluation_batch_requests_batch_id_line_no")),
    )
    op.create_index("ix_evaluation_batch_requests_item_id", "evaluation_batch_requests", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_evaluation_batch_requests_item_id", table_name="evaluation_batch_requests")
    op.drop_table("evaluation_batch_requests")
    op.drop_index("ix_evaluation_batches_state_next_poll_at", table_name="evaluation_batches")
    op.drop_table("evaluation_batches")
    op.execute("UPDATE evaluation_runs SET status = 'failed' WHERE status = 'cancelled'")
    _set_run_statuses(OLD_STATUSES)
