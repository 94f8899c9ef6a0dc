"""Alembic, driven programmatically: `upgrade_to_head(engine)` and `current_revision`.

Migrations live in `lse/store/migrations/versions/` and run on SQLite and PostgreSQL
alike. `lse db upgrade` and the first use of an empty database both call this; two
processes starting together are serialised by an advisory lock in env.py (PostgreSQL)
or SQLite's write lock, and the second finds nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from pydantic import BaseModel, computed_field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from lse.errors import StorageError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise _storage_error(engine, exc) from exc


def upgrade_to_head(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default head); a no-op when it is already there."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    try:
        command.upgrade(alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise _storage_error(engine, exc) from exc
    except CommandError as exc:
        raise StorageError(f"cannot migrate the database to {revision!r}: {exc}") from exc


def _storage_error(engine: Engine, exc: SQLAlchemyError) -> StorageError:
    from lse.store.engine import storage_error

    where = engine.url.render_as_string(hide_password=True)
    return storage_error(exc, f"migrating {where} (check LSE_DATABASE_URL)")


class DbStatus(BaseModel):
    url: str  # password hidden
    backend: str
    current: str | None
    head: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def db_status(engine: Engine) -> DbStatus:
    """Where the database stands against the migrations shipped with this version."""
    return DbStatus(
        url=engine.url.render_as_string(hide_password=True),
        backend=engine.dialect.name,
        current=current_revision(engine),
        head=head_revision(),
    )
