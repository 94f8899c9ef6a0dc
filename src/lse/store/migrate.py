"""Alembic, driven programmatically: where a database stands, and bringing it to head.

Migrations live in `lse/store/migrations/versions/` and run on SQLite and PostgreSQL
alike. Only two things migrate: `lse db upgrade` (any database this version knows) and
the first use of an EMPTY database (`prepare_schema`, called by `get_engine`). A
database behind head is refused with the command to run, so a large PostgreSQL never
starts an index build because someone ran `lse archive verify`.

Two processes migrating at once take turns: on PostgreSQL under an advisory lock in
env.py, on SQLite in one BEGIN IMMEDIATE transaction (`make_engine(locked_ddl=True)`).
Alembic reads the revision inside that lock, so the second finds nothing left to do.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from pydantic import BaseModel, computed_field
from sqlalchemy import Engine, inspect

from lse.errors import StorageError
from lse.store.errors import DRIVER_ERRORS, database_error

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaState(StrEnum):
    EMPTY = "empty"  # no revision and none of our tables: first use creates the schema
    UP_TO_DATE = "up_to_date"
    BEHIND = "behind"  # an older lse's schema: `lse db upgrade` migrates it, data kept
    UNKNOWN_REVISION = "unknown_revision"  # not a revision this lse ships: a newer lse's
    UNVERSIONED = "unversioned"  # our tables but no revision: not made by these migrations


class DbStatus(BaseModel):
    url: str  # password hidden
    backend: str
    current: str | None
    head: str
    state: SchemaState
    tables: list[str] = []  # our tables found in a database without a revision

    @computed_field  # type: ignore[prop-decorator]  # -- pydantic's idiom; mypy does not model decorated properties
    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    return _script().get_current_head() or ""


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    return db_status(engine).current


def db_status(engine: Engine) -> DbStatus:
    """Where the database stands against the migrations shipped with this version."""
    import lse.store.models  # noqa: F401 -- registers every table on Base.metadata
    from lse.store.base import Base

    try:
        with engine.connect() as conn:
            # Tables first: a migration committing between the two reads then shows as its
            # revision, never as "our tables without a revision".
            tables = set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
            current = MigrationContext.configure(conn).get_current_revision()
    except DRIVER_ERRORS as exc:
        raise _storage_error(exc, f"reading the schema revision of {_where(engine)}") from exc
    except CommandError as exc:  # several revisions in alembic_version: not a history of ours
        raise StorageError(f"cannot read the schema revision of {_where(engine)}: {exc}") from exc
    head = head_revision()
    if current is None:
        state = SchemaState.UNVERSIONED if tables else SchemaState.EMPTY
    elif current == head:
        state = SchemaState.UP_TO_DATE
    else:
        state = SchemaState.BEHIND if current in known_revisions() else SchemaState.UNKNOWN_REVISION
    return DbStatus(
        url=_where(engine),
        backend=engine.dialect.name,
        current=current,
        head=head,
        state=state,
        tables=[] if current else sorted(tables),
    )


def prepare_schema(engine: Engine) -> None:
    """First use of a database: create the schema of an empty one, refuse any other not at head."""
    status = db_status(engine)
    if status.state is SchemaState.UP_TO_DATE:
        return
    if status.state is not SchemaState.EMPTY:
        raise schema_error(status)
    _run_upgrade(engine, "head")  # a process that got there first leaves this one nothing to do
    after = db_status(engine)
    if after.state is not SchemaState.UP_TO_DATE:  # e.g. a concurrent `lse db upgrade --revision` to an older one
        raise schema_error(after)


def upgrade_to_head(engine: Engine, revision: str = "head") -> None:
    """Bring a database this version knows to `revision` (default head); a no-op when it is there."""
    status = db_status(engine)
    if status.state in (SchemaState.UNKNOWN_REVISION, SchemaState.UNVERSIONED):
        raise schema_error(status)
    if revision == "head" and status.state is SchemaState.UP_TO_DATE:
        return
    _run_upgrade(engine, revision)


def schema_error(status: DbStatus) -> StorageError:
    """Why the database cannot be used as it is, and what to run."""
    where = f"the database {status.url}"
    if status.state is SchemaState.BEHIND:
        return StorageError(
            f"{where} is at schema revision {status.current}, this version of lse needs {status.head}: "
            "run `lse db upgrade` to migrate it (data is kept; on a large database it can take a while)",
            code="database_needs_upgrade",
        )
    if status.state is SchemaState.UNKNOWN_REVISION:
        return StorageError(
            f"{where} is at schema revision {status.current!r}, which this version of lse (head {status.head}) "
            "does not know: a newer lse migrated it — upgrade lse, or point LSE_DATABASE_URL at another database",
            code="database_schema_unknown",
        )
    if status.state is SchemaState.UNVERSIONED:
        return StorageError(
            f"{where} has lse tables ({_some(status.tables)}) but no schema revision, so lse's migrations "
            "did not make it: point LSE_DATABASE_URL at an empty database or at one lse created",
            code="database_schema_unknown",
        )
    return StorageError(f"{where} is at {status.current or '(empty)'}, not at head {status.head}: run `lse db upgrade`")


def _run_upgrade(engine: Engine, revision: str) -> None:
    from lse.store.engine import make_engine

    sqlite = engine.dialect.name == "sqlite"
    migrating = make_engine(engine.url.render_as_string(hide_password=False), locked_ddl=True) if sqlite else engine
    try:
        command.upgrade(alembic_config(migrating), revision)
        if sqlite:
            _check_foreign_keys(migrating)
    except DRIVER_ERRORS as exc:
        raise _storage_error(exc, f"migrating {_where(engine)} to {revision}") from exc
    except CommandError as exc:
        raise StorageError(f"cannot migrate {_where(engine)} to {revision!r}: {exc}") from exc
    finally:
        if sqlite:
            migrating.dispose()


def _check_foreign_keys(engine: Engine) -> None:
    """SQLite migrations run with foreign keys off; prove afterwards that every key still holds."""
    with engine.connect() as conn:
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise StorageError(
            f"after migrating {_where(engine)}, {len(broken)} row(s) of {', '.join(tables)} name a parent row "
            "that does not exist: the migration is wrong; restore the database from a copy and report it"
        )


def _some(names: list[str], shown: int = 3) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _storage_error(exc: BaseException, doing: str) -> StorageError:
    return database_error(exc, f"{doing} (check LSE_DATABASE_URL and that the database is up)")
