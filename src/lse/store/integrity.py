"""Tell which unique constraint an IntegrityError broke, on PostgreSQL and SQLite alike.

Shared by every service that inserts a row whose name must be unique (datasets, configs,
runs): the driver error is read here, in the store, once.

A 409 must only ever disguise the violation it is about: a foreign-key failure or another
constraint stays an error, not a "name already exists".
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lse.errors import ConflictError


def violates(exc: IntegrityError, constraint: str, table: str, columns: tuple[str, ...]) -> bool:
    """True if `exc` is the unique violation of `constraint` (`table`.`columns` on SQLite)."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg: the server names the constraint
        return getattr(diag, "constraint_name", None) == constraint
    text = str(orig)
    if "UNIQUE constraint failed" not in text:
        return False
    failed = text.split("UNIQUE constraint failed:", 1)[1]
    named = {part.strip() for part in failed.split(",")}
    return named == {f"{table}.{c}" for c in columns}


def flush_unique(
    session: Session, constraint: str, table: str, columns: tuple[str, ...], conflict: ConflictError
) -> None:
    """Flush; a breach of this unique constraint (e.g. two simultaneous requests) becomes
    `conflict`, any other integrity error propagates undisguised."""
    try:
        session.flush()
    except IntegrityError as exc:
        if violates(exc, constraint, table, columns):
            raise conflict from exc
        raise
