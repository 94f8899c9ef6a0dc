"""Alembic environment: runs against the engine passed in `config.attributes['engine']`.

On PostgreSQL the whole upgrade runs in one read-committed transaction under an
advisory lock, so two processes upgrading the same database at once take turns instead
of colliding (read committed whatever the database's default: under repeatable read the
second would read the revision from a snapshot taken before the first one committed).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

import lse.store.models  # noqa: F401 -- registers every table on Base.metadata
from lse.store.base import Base

MIGRATION_LOCK_KEY = 7_245_001  # arbitrary, constant: "lse migrations"

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="READ COMMITTED")
    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            context.run_migrations()
