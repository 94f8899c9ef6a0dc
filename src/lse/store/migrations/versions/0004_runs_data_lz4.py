"""PostgreSQL: runs.data is compressed with LZ4 where the server has it.

Revision ID: 0004_runs_data_lz4
Revises: 0003_runs_attributes_gin

A run document is a few KB of JSON, above PostgreSQL's TOAST threshold (~2 KB), so
every stored run is compressed. The default, pglz, is the slowest part of writing one:
measured with bench/bench_load.py on sandbox runs, a bare COPY of the same lines takes
about 1.6x as long with pglz as with LZ4, and takes about 13% less space. LZ4
decompresses faster too, which is what every read of `data` pays.

Only values written from now on are LZ4; values already stored stay pglz, and both
read the same. Servers built without LZ4 (or older than PostgreSQL 14) keep pglz:
`default_toast_compression` then does not offer it. Nothing changes on SQLite.
"""

from alembic import op
from sqlalchemy import text

revision = "0004_runs_data_lz4"
down_revision = "0003_runs_attributes_gin"
branch_labels = None
depends_on = None


def _has_lz4() -> bool:
    bind = op.get_bind()
    return bool(
        bind.execute(
            text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute("ALTER TABLE runs ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql" and _has_lz4():
        op.execute("ALTER TABLE runs ALTER COLUMN data SET COMPRESSION pglz")
