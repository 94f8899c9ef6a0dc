"""Engines and units of work, built from settings; an empty database gets the schema on first use.

SQLite gets WAL, foreign keys and a busy timeout so the API, CLI and workers can share
one file; a unit of work that writes (`write=True`) takes SQLite's write lock up front
(BEGIN IMMEDIATE), so it waits its turn instead of failing at once when a read turns into
a write, and a lock that outlasts the busy timeout is `StorageBusy` (503, retried by
`retry_when_busy`), never a 500. The database file is created 0600 in a 0700 folder.
A URL lse cannot use (malformed, another driver, an in-memory SQLite, a file whose
folder cannot exist) is a `ConfigError` here, before anything connects. Every
driver error that escapes a unit of work becomes a `StorageError` (`lse.store.errors`).

First use (`get_engine`) migrates only an EMPTY database: a database behind head is
refused until `lse db upgrade` migrates it, so no command (a verify, an API request)
starts an unannounced, possibly long migration (an index build over every run).
"""

from __future__ import annotations

import functools
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from lse.errors import ConfigError, StorageBusy
from lse.private_files import private_dir, private_file
from lse.records.jsonl import dumps_document, loads
from lse.settings import Settings
from lse.store.errors import DRIVER_ERRORS, database_error, first_line

_engines: dict[str, Engine] = {}
_schema_checked: set[str] = set()  # URLs whose schema get_engine has found (or made) at head
_engines_lock = threading.Lock()  # API/worker threads may race to the first engine

URL_FORMS = "sqlite:///path/to/lse.db or postgresql+psycopg://user@host/db"
_POSTGRES_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg"}  # psycopg 3: the loader COPYs through it
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
P = ParamSpec("P")
R = TypeVar("R")
BUSY_TIMEOUT_MS = 30_000  # how long one statement waits for another writer's lock
BUSY_ATTEMPTS = 4  # a whole unit of work retried on StorageBusy (retry_when_busy)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_locked_ddl(dbapi_conn, record) -> None:
    """pysqlite runs DDL outside any transaction; with its own BEGIN off, ours covers DDL too.

    Foreign keys are off on a migrating connection (SQLite ignores the pragma inside a
    transaction, so it is set here, before BEGIN): a migration that rebuilds a parent table
    (copy, drop, rename — how SQLite alters a column) would otherwise cascade the drop to
    every child row. The migration checks the keys itself when it is done.
    """
    dbapi_conn.isolation_level = None
    _sqlite_pragmas(dbapi_conn, record)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.close()


def _dumps_document(value: object) -> str:
    """ORM documents: the codec's database form; NaN stays a token, as SQLite keeps it."""
    return dumps_document(value, allow_nan=True)


def _begin_immediate(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def database_url(url: str) -> URL:
    """The parsed URL lse will connect to, or a ConfigError saying what is wrong and what to write."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"LSE_DATABASE_URL is not a valid database URL: {_redact(url)!r}; write {URL_FORMS}") from exc
    shown = _redact(url)  # as the user wrote it (rendering would escape ':memory:')
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if parsed.drivername not in _POSTGRES_DRIVERS:
            raise ConfigError(
                f"LSE_DATABASE_URL {shown!r} asks for the driver {driver!r}; lse talks to PostgreSQL "
                "through psycopg 3: write postgresql+psycopg://… or postgresql://…"
            )
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        raise ConfigError(f"unsupported database {backend!r} in LSE_DATABASE_URL: write {URL_FORMS}")
    if parsed.drivername not in _SQLITE_DRIVERS:
        raise ConfigError(f"LSE_DATABASE_URL {shown!r} asks for the driver {driver!r}; write sqlite:///path/to/lse.db")
    if parsed.host or parsed.username or parsed.port:
        rest = url.split("://", 1)[1]
        raise ConfigError(
            f"LSE_DATABASE_URL {shown!r} names a host, not a file: write sqlite:///{rest} "
            "(three slashes: a path relative to the working directory; four for an absolute path)"
        )
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory" or database.startswith("file::memory:"):
        raise ConfigError(
            f"LSE_DATABASE_URL {shown!r} is an in-memory SQLite database, which every connection would see "
            "empty: lse needs a file — write sqlite:///path/to/lse.db, or leave LSE_DATABASE_URL unset "
            "for $LSE_DATA_DIR/lse.db"
        )
    return parsed


def make_engine(url: str, *, locked_ddl: bool = False) -> Engine:
    """A new engine for `url` (SQLite file or PostgreSQL via psycopg 3); nothing connects yet.

    `locked_ddl` is for migrations on SQLite: one connection at a time, each transaction a
    BEGIN IMMEDIATE that covers DDL too, so two processes creating the schema take turns
    and a failed migration leaves nothing half done (PostgreSQL does this by itself).
    """
    parsed = database_url(url)
    shown = _redact(url)
    json_codec = {"json_deserializer": loads, "json_serializer": _dumps_document}  # the one number policy
    try:
        if parsed.get_backend_name() == "sqlite":
            if not _truthy(parsed.query.get("uri")):
                _sqlite_folder(Path(parsed.database or ""))
            pool = {"poolclass": NullPool} if locked_ddl else {}
            engine = create_engine(parsed, connect_args={"timeout": 30}, **pool, **json_codec)
            event.listen(engine, "connect", _sqlite_locked_ddl if locked_ddl else _sqlite_pragmas)
            if locked_ddl:
                event.listen(engine, "begin", _begin_immediate)
            return engine
        return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20, **json_codec)
    except (ArgumentError, ImportError, TypeError, ValueError) as exc:  # missing driver, bad query options
        raise ConfigError(f"LSE_DATABASE_URL {shown!r} cannot be used: {first_line(exc)}; write {URL_FORMS}") from exc


def _sqlite_folder(path: Path) -> None:
    """The SQLite file's folder, created if missing; a path that cannot hold a file is a ConfigError."""
    hint = "check LSE_DATABASE_URL (or LSE_DATA_DIR, which holds the default lse.db)"
    if path.is_dir():
        raise ConfigError(f"the SQLite database {str(path)!r} is a folder, not a file: {hint}")
    try:
        private_dir(path.parent)
        private_file(path)
    except FileExistsError as exc:
        raise ConfigError(
            f"cannot create the SQLite database {str(path)!r}: {exc.filename} is a file, not a folder; {hint}"
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot create the folder of the SQLite database {str(path)!r}: {exc.strerror} ({exc.filename}); {hint}"
        ) from exc


def get_engine(settings: Settings, *, upgrade: bool = True) -> Engine:
    """The process-wide engine for these settings.

    With `upgrade` (the default) the schema is checked on first use: an empty database is
    brought to head, one behind head or at an unknown revision raises a StorageError that
    says what to run (`lse db upgrade`, or a newer lse). `upgrade=False` skips the check,
    for callers that manage the schema themselves (as `lse db ...` does with make_engine).
    """
    url = settings.effective_database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        if upgrade and url not in _schema_checked:
            from lse.store.migrate import prepare_schema

            prepare_schema(engine)  # on failure nothing is marked: the next call checks again
            _schema_checked.add(url)
    return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _schema_checked.clear()


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back and translate errors on failure.

    `write=True` on SQLite begins with BEGIN IMMEDIATE: the write lock is taken (or waited
    for, up to the busy timeout) before the first read, so the transaction cannot fail
    half-way when another writer committed since it started reading.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        if write and engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
        session.commit()
    except DRIVER_ERRORS as exc:
        session.rollback()
        if is_locked(exc):
            raise StorageBusy(
                "the database is busy with another writer; retry in a moment", details={"retry_after_s": 1}
            ) from exc
        raise database_error(exc) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" (or "table is locked"): another writer holds the lock."""
    return isinstance(exc, (OperationalError, sqlite3.OperationalError)) and "is locked" in str(
        getattr(exc, "orig", None) or exc
    )


def retry_when_busy(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` (one whole unit of work) again when it ends in StorageBusy: its transaction
    was rolled back, so a retry starts clean. The last StorageBusy is raised (503)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(BUSY_ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except StorageBusy:
                if attempt == BUSY_ATTEMPTS - 1:
                    raise
                time.sleep(min(1.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    return wrapper


def _redact(url: str) -> str:
    """`url` with any password between `user:` and `@` masked, for a URL too broken to parse."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _truthy(value: object) -> bool:
    return str(value).lower() in {"1", "true", "yes", "on"}
