"""The one translation of database driver errors into lse's error tree.

SQLAlchemy, psycopg and sqlite3 errors enter lse only through the store, and they leave
it only as `StorageError` — or `RowRefused` when the database refused one row's values
rather than being unusable, so a load can isolate the row and go on — with one line
saying what lse was doing. Nothing outside `store/` catches a driver exception.

"A row's values": on PostgreSQL SQLSTATE classes 22 (data exception: NUL in text, bad
encoding, out-of-range values), 23 (integrity), 54 (program limit: an index row too
large, too deep a document), P0 (raised by a trigger) and 40 (deadlock or serialization
failure, which a retry row by row gets past); on SQLite `IntegrityError` and
`DataError` (a trigger's RAISE(ABORT) included). Anything else — connection lost,
schema missing, disk full, read-only, locked — is about the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from lse.errors import ConflictError, RowRefused, StorageError

DRIVER_ERRORS = (SQLAlchemyError, psycopg.Error, sqlite3.Error)
_ROW_SQLSTATE_CLASSES = {"22", "23", "54", "P0", "40"}


def database_error(exc: BaseException, doing: str | None = None) -> StorageError:
    """The lse error for a driver error raised while `doing` something."""
    kind = RowRefused if refuses_values(exc) else StorageError
    return kind(f"database error{f' while {doing}' if doing else ''}: {first_line(exc)}")


def refuses_values(exc: BaseException) -> bool:
    """Whether the database refused a row's values (see the module docstring)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, psycopg.Error):
        return (orig.sqlstate or "")[:2] in _ROW_SQLSTATE_CLASSES
    return isinstance(orig, (sqlite3.IntegrityError, sqlite3.DataError))


def integrity_refusal(exc: BaseException) -> bool:
    """Whether an lse storage error is the database's integrity refusal (a key or row
    another writer inserted first): callers that expect such a race take the other row."""
    return isinstance(exc, RowRefused) and isinstance(exc.__cause__, IntegrityError)


@contextmanager
def translated(doing: str) -> Iterator[None]:
    """Driver errors raised inside become `database_error(exc, doing)`."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise database_error(exc, doing) from exc


def unique_violation(exc: BaseException, constraint: str, table: str, columns: tuple[str, ...]) -> bool:
    """Whether `exc` is the breach of this unique constraint: PostgreSQL names the
    constraint; SQLite names the table's columns."""
    if not isinstance(exc, IntegrityError):
        return False
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:  # psycopg: the server names the constraint
        return getattr(diag, "constraint_name", None) == constraint
    text = str(exc.orig)
    if "UNIQUE constraint failed" not in text:
        return False
    named = {part.strip() for part in text.split("UNIQUE constraint failed:", 1)[1].split(",")}
    return named == {f"{table}.{c}" for c in columns}


@contextmanager
def conflict_on(constraint: str, table: str, columns: tuple[str, ...], conflict: ConflictError) -> Iterator[None]:
    """A breach of this unique constraint inside (e.g. two simultaneous requests) becomes
    `conflict`; any other driver error is translated as usual, never disguised as it."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        if unique_violation(exc, constraint, table, columns):
            raise conflict from exc
        raise database_error(exc) from exc


def first_line(exc: BaseException) -> str:
    """The first line of the driver's own message (SQLAlchemy's wrapper adds SQL and links)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
