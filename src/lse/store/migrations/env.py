"""Alembic environment: runs against the engine passed in `config.attributes['engine']`."""

from __future__ import annotations

from alembic import context

import lse.store.models  # noqa: F401  (register every table on Base.metadata)
from lse.store.base import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
