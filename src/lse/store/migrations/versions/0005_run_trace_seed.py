"""Evaluation runs carry a trace seed: the stable, globally unique root of their item trace ids.

Revision ID: 0005_run_trace_seed
Revises: 0004_runs_data_lz4

An item's trace id (the id Kaapi clients read as `trace_id`, and the id of its trace in
Langfuse and LangSmith exports) is derived from the run's seed and the item id, so it is
the same every time it is read or exported, and two deployments (or two databases) never
produce the same one. Runs that exist before this revision get a seed of their own here.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005_run_trace_seed"
down_revision = "0004_runs_data_lz4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.add_column(sa.Column("trace_seed", sa.String(36), nullable=True))
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM evaluation_runs WHERE trace_seed IS NULL"))]
    for run_id in ids:
        bind.execute(
            sa.text("UPDATE evaluation_runs SET trace_seed = :seed WHERE id = :id"),
            {"seed": str(uuid.uuid4()), "id": run_id},
        )
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.alter_column("trace_seed", existing_type=sa.String(36), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.drop_column("trace_seed")
