"""SQLite batch writer: one BEGIN IMMEDIATE transaction per batch, executemany upserts.

BEGIN IMMEDIATE takes the write lock before the batch's SELECT, so the merge is done
against rows no other writer can change until we commit (SQLite has one writer at a
time anyway; taking the lock up front avoids a deadlock-prone read-to-write upgrade).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from lse.errors import StorageError
from lse.records.batches import batched
from lse.records.jsonl import loads
from lse.records.timestamps import parse_utc
from lse.store.errors import database_error
from lse.store.rows import (
    FEEDBACK_COLUMNS,
    RUN_COLUMNS,
    FeedbackColumns,
    stored_feedback_columns,
    stored_run_columns,
)
from lse.store.stored_form import decode_stored
from lse.store.upsert import STORED_FEEDBACK_COLUMNS, STORED_RUN_COLUMNS, EncodedFeedback, EncodedRun, StoredRun

_RUN_COLS = (*RUN_COLUMNS, "data", "data_encoding", "loaded_at", "updated_at")
_UPSERT_RUNS = (
    f"INSERT INTO runs ({', '.join(_RUN_COLS)}) VALUES ({', '.join('?' * len(_RUN_COLS))}) "
    "ON CONFLICT (run_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _RUN_COLS if c not in ("run_id", "loaded_at"))
)
_FB_COLS = FEEDBACK_COLUMNS
_UPSERT_FEEDBACK = (
    f"INSERT INTO feedback ({', '.join(_FB_COLS)}) VALUES ({', '.join('?' * len(_FB_COLS))}) "
    "ON CONFLICT (feedback_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _FB_COLS if c != "feedback_id")
    + " WHERE coalesce(excluded.modified_at, excluded.created_at, '')"
    " >= coalesce(feedback.modified_at, feedback.created_at, '')"
)


# Ids per SELECT: well under SQLite's limit on bound parameters (999 before 3.32).
_IDS_PER_QUERY = 500


def sqlite_ts(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime reads back (UTC, fixed width, so it sorts)."""
    if value is None:
        return None
    # isoformat, not strftime("%Y"): the year keeps its four digits below 1000 too
    # (Go's zero time is 0001-01-01), so the text still sorts and reads back.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_day(text: Any) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None  # not what a load writes: differs from any run's columns, so it is rewritten


class SqliteWriter:
    writers = 1  # SQLite has one writer at a time

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def transaction(self, project: str, shards: Iterable[int]) -> Iterator[_SqliteTx]:
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        if not isinstance(conn, sqlite3.Connection):
            raw.close()
            raise StorageError(f"the SQLite writer needs a sqlite3 connection, not {type(conn).__name__}")
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield _SqliteTx(conn)
            conn.commit()
        except sqlite3.Error as exc:
            _rollback(conn)
            raise database_error(exc, "loading runs") from exc
        except BaseException:
            _rollback(conn)
            raise
        finally:
            raw.close()


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.now = sqlite_ts(datetime.now(UTC))

    def _select(self, sql: str, ids: list[str]) -> Iterator[dict[str, Any]]:
        """Rows of `sql` (ending in `IN ({})`) for `ids`, as mappings by column name, with
        dates and timestamps parsed back from SQLite's text."""
        for part in batched(ids, _IDS_PER_QUERY):
            cur = self.conn.execute(sql.format(", ".join("?" * len(part))), part)
            names = [d[0] for d in cur.description]
            for values in cur:
                row = dict(zip(names, values, strict=True))
                row["run_date"] = _parse_day(row["run_date"])
                for name in ("start_time", "created_at", "modified_at"):
                    if name in row:
                        row[name] = parse_utc(row[name])
                yield row

    def stored_runs(self, run_ids: list[str]) -> dict[str, StoredRun]:
        found: dict[str, StoredRun] = {}
        sql = f"SELECT data, data_encoding, {STORED_RUN_COLUMNS} FROM runs WHERE run_id IN ({{}})"
        for row in self._select(sql, run_ids):
            doc = loads(row["data"])
            found[row["run_id"]] = StoredRun(
                decode_stored(doc) if row["data_encoding"] else doc, stored_run_columns(row)
            )
        return found

    def upsert_runs(self, rows: list[EncodedRun]) -> None:
        self.conn.executemany(
            _UPSERT_RUNS,
            [
                (
                    r.cols.run_id,
                    r.cols.trace_id,
                    r.cols.parent_run_id,
                    r.cols.project,
                    _day(r.cols.run_date),
                    sqlite_ts(r.cols.start_time),
                    r.cols.feedback_status,
                    r.data,
                    r.encoding,
                    self.now,
                    self.now,
                )
                for r in rows
            ],
        )

    def stored_feedback(self, feedback_ids: list[str]) -> dict[str, FeedbackColumns]:
        sql = f"SELECT {STORED_FEEDBACK_COLUMNS} FROM feedback WHERE feedback_id IN ({{}})"
        return {
            row["feedback_id"]: stored_feedback_columns(row, documents_as_text=True)
            for row in self._select(sql, feedback_ids)
        }

    def upsert_feedback(self, rows: list[EncodedFeedback], *, all_new: bool) -> int:
        cur = self.conn.executemany(
            _UPSERT_FEEDBACK,
            [
                (
                    f.cols.feedback_id,
                    f.cols.run_id,
                    f.cols.trace_id,
                    f.cols.project,
                    _day(f.cols.run_date),
                    f.key,
                    f.cols.score,
                    f.value,
                    f.comment,
                    f.correction,
                    f.source,
                    sqlite_ts(f.cols.created_at),
                    sqlite_ts(f.cols.modified_at),
                    f.encoding,
                )
                for f in rows
            ],
        )
        return max(cur.rowcount, 0)  # rows inserted or replaced; a row not newer is no change


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back after a failure; if the connection itself is gone, the original error
    is the one worth raising (the pool discards the dead connection on close)."""
    with suppress(sqlite3.Error):
        conn.rollback()
