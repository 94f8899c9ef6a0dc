"""Runs remember a user's cancel request until whoever executes them has stopped them.

Revision ID: 0010_run_cancel_request
Revises: 0009_api_surface

`evaluation_runs.cancel_requested_at`: a fast run's worker sees it at its next heartbeat and
stops between calls; a batch run's poller cancels its provider batches, collects what they
paid for and ends the run `cancelled`. A nullable column: no table is rebuilt.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_run_cancel_request"
down_revision = "0009_api_surface"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evaluation_runs", sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evaluation_runs") as batch:
        batch.drop_column("cancel_requested_at")
