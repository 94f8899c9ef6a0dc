"""Engines and units of work, built from settings; schema brought to head on first use.

SQLite gets WAL, foreign keys and a busy timeout so the API, CLI and workers can share
one file. Every SQLAlchemy error that escapes a unit of work becomes a `StorageError`
with a message that says what to check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from lse.errors import ConfigError, StorageError
from lse.settings import Settings
from lse.records.jsonl import dumps_line
from lse.store.stored_form import loads_exact

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()  # API/worker threads may race to the first engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """A new engine for `url` (SQLite file or PostgreSQL via psycopg 3)."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"LSE_DATABASE_URL is not a valid database URL: {url!r}") from exc
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Exact JSON both ways: numbers a float cannot hold come back as Decimal, and go out as written.
        engine = create_engine(
            parsed, connect_args={"timeout": 30}, json_deserializer=loads_exact, json_serializer=dumps_line
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=10, max_overflow=20,
        json_deserializer=loads_exact, json_serializer=dumps_line,
    )


def get_engine(settings: Settings, *, upgrade: bool = True) -> Engine:
    """The process-wide engine for these settings, migrated to head on first use."""
    url = settings.effective_database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            if upgrade:
                from lse.store.migrate import upgrade_to_head

                try:
                    upgrade_to_head(engine)
                except BaseException:
                    engine.dispose()
                    raise
            _engines[url] = engine
    return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back and translate errors on failure."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise StorageError(f"database error: {_first_line(exc)}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def storage_error(exc: BaseException, doing: str) -> StorageError:
    """The StorageError for a database failure while `doing` something (one line, what to check)."""
    return StorageError(f"database error while {doing}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
