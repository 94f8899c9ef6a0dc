"""PostgreSQL batch writer: COPY into temp staging tables, then one INSERT … ON CONFLICT each.

No per-row round trips: a batch is one SELECT of the stored rows, two binary COPY
streams and two INSERT … SELECT statements, in one transaction. Transaction-scoped
advisory locks, one per shard of the project's runs (`lse.store.upsert.shard_of`),
serialise the loaders and lanes that write the same runs, so the merge done in Python
is never made against a row another writer is about to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from lse.errors import StorageError
from lse.records.jsonl import loads, orjson
from lse.store.errors import database_error
from lse.store.rows import (
    FEEDBACK_COLUMNS,
    FEEDBACK_DOCUMENTS,
    RUN_COLUMNS,
    FeedbackColumns,
    stored_feedback_columns,
    stored_run_columns,
)
from lse.store.stored_form import decode_stored
from lse.store.upsert import STORED_RUN_COLUMNS, AlreadyStored, EncodedFeedback, EncodedRun, StoredRun

# Memory for merging a GIN pending list inside a load transaction (see `transaction`).
GIN_MERGE_WORK_MEM = "64MB"

_STAGE_RUNS = """
CREATE TEMP TABLE IF NOT EXISTS lse_stage_runs (
    run_id text, trace_id text, parent_run_id text, project text, run_date date,
    start_time timestamptz, feedback_status text, data jsonb, data_encoding text
) ON COMMIT DELETE ROWS
"""
# Binary COPY (no text escaping on either side), so each column's type is given.
_RUN_COLS = (*RUN_COLUMNS, "data", "data_encoding")
_RUN_TYPES = ("text", "text", "text", "text", "date", "timestamptz", "text", "jsonb", "text")
_UPSERT_RUNS = (
    f"INSERT INTO runs ({', '.join(_RUN_COLS)}, loaded_at, updated_at) "
    f"SELECT {', '.join(_RUN_COLS)}, now(), now() FROM lse_stage_runs "
    "ON CONFLICT (run_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _RUN_COLS[1:])
    + ", updated_at = EXCLUDED.updated_at"
)
_STAGE_FEEDBACK = """
CREATE TEMP TABLE IF NOT EXISTS lse_stage_feedback (
    feedback_id text, run_id text, trace_id text, project text, run_date date, key text,
    score double precision, value jsonb, comment text, correction jsonb, source jsonb,
    created_at timestamptz, modified_at timestamptz, encoding text
) ON COMMIT DELETE ROWS
"""
_FB_COLS = FEEDBACK_COLUMNS
_FB_TYPES = (
    "text",
    "text",
    "text",
    "text",
    "date",
    "text",
    "float8",
    "jsonb",
    "text",
    "jsonb",
    "jsonb",
    "timestamptz",
    "timestamptz",
    "text",
)
_UPSERT_FEEDBACK = (
    f"INSERT INTO feedback ({', '.join(_FB_COLS)}) "
    f"SELECT {', '.join(_FB_COLS)} FROM lse_stage_feedback "
    "ON CONFLICT (feedback_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _FB_COLS[1:])
    + " WHERE coalesce(EXCLUDED.modified_at, EXCLUDED.created_at, '-infinity')"
    " >= coalesce(feedback.modified_at, feedback.created_at, '-infinity')"
)


# The ids a batch looks up, from one JSON array: evaluated once (an InitPlan), then
# matched through the unique index like any array.
_IDS = "ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))"
# The feedback columns, JSONB documents as text (read by the codec, see `stored_runs`).
_FEEDBACK_DOCUMENTS_AS_TEXT = ", ".join(f"{c}::text AS {c}" if c in FEEDBACK_DOCUMENTS else c for c in FEEDBACK_COLUMNS)


def load_lock_name(project: str, shard: int) -> str:
    """The advisory lock (hashed by `hashtextextended(name, 0)`) a loader holds while it
    merges and writes runs of this shard of this project."""
    return f"lse.load:{project}:{shard}"


class PostgresWriter:
    keeps_day_figures = True

    def __init__(self, engine: Engine, writers: int = 1):
        self.engine = engine
        self.writers = writers
        self.assumes_new = True

    @contextmanager
    def transaction(self, project: str, shards: Iterable[int], *, assume_new: bool = False) -> Iterator[_PostgresTx]:
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        if not isinstance(conn, psycopg.Connection):
            raw.close()
            raise StorageError(f"the PostgreSQL writer needs a psycopg 3 connection, not {type(conn).__name__}")
        try:
            with conn.cursor() as cur:
                cur.execute(_opening(project, shards))
                yield _PostgresTx(cur)
            conn.commit()
        except psycopg.Error as exc:
            _end(raw, conn)
            if assume_new and isinstance(exc, psycopg.errors.UniqueViolation):
                raise AlreadyStored(str(exc).strip().splitlines()[0]) from exc
            raise database_error(exc, "loading runs") from exc
        except BaseException:
            _end(raw, conn)
            raise
        else:
            raw.close()


def _opening(project: str, shards: Iterable[int]) -> sql.Composed:
    """A batch's opening statements, sent as one query (no parameters: the simple
    protocol runs them in order, in one round trip where there were a dozen):

    - read committed whatever the database's default: under repeatable read or
      serializable the snapshot would be taken before the locks are granted, and the
      batch would merge against rows another writer has since committed;
    - the load lock of each shard in the batch, always in ascending order so that
      writers taking several never wait on each other in a cycle;
    - no wait for the batch's own WAL flush: the load's closing fetch record commits
      synchronously, which flushes every batch before it, and a crash mid-load is
      repaired by loading again (idempotent);
    - GIN inserts go to the index's pending list; when it fills, the inserting backend
      merges it into the tree, accumulating entries in up to work_mem at a time. At the
      4 MB default the list is merged in several passes; GIN_MERGE_WORK_MEM takes it in
      one, which roughly halves the load's time in the GIN indexes
      (bench/bench_load.py). Only this transaction uses it.
    """
    locks = [
        sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))").format(load_lock_name(project, shard))
        for shard in sorted(set(shards))
    ]
    return sql.SQL("; ").join(
        [
            sql.SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            *locks,
            sql.SQL("SET LOCAL synchronous_commit = off"),
            sql.SQL("SET LOCAL work_mem = {}").format(GIN_MERGE_WORK_MEM),
        ]
    )


class _PostgresTx:
    """One batch: each upsert is called at most once (staging rows clear at commit).

    When none of the batch's ids is stored yet (a first load: the bulk case) the rows
    are COPY'd straight into the table, skipping the staging copy; the advisory lock
    keeps that check true until commit, and should another writer still collide, the
    unique index refuses the batch and the loader retries it row by row.
    """

    def __init__(self, cur: psycopg.Cursor):
        self.cur = cur
        self.existing_runs: set[str] = set()

    def _select(self, sql: str, ids: list[str]) -> list[dict[str, Any]]:
        """Rows of `sql` for `ids` (its `_IDS`), as mappings by column name. The ids go as
        one JSON text: binding a list of 2,000 strings as an array costs ~20x more Python
        time (psycopg dumps each element), and an id holds no lone surrogate (rows.py)."""
        with self.cur.connection.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, (orjson.dumps(ids).decode("utf-8"),))
            return cur.fetchall()

    def stored_runs(self, run_ids: list[str]) -> dict[str, StoredRun]:
        # JSONB as text, read by the codec: psycopg's own JSONB loader reads every number as a float.
        sql = f"SELECT data::text AS data, data_encoding, {STORED_RUN_COLUMNS} FROM runs WHERE run_id = {_IDS}"
        found = {}
        for row in self._select(sql, run_ids):
            doc = loads(row["data"])
            found[row["run_id"]] = StoredRun(
                decode_stored(doc) if row["data_encoding"] else doc, stored_run_columns(row)
            )
        self.existing_runs = set(found)
        return found

    def upsert_runs(self, rows: list[EncodedRun]) -> None:
        if not rows:
            return
        cols: tuple[str, ...]
        now: tuple[datetime, ...]
        if any(r.cols.run_id in self.existing_runs for r in rows):
            self.cur.execute(_STAGE_RUNS)
            target, cols, now = "lse_stage_runs", _RUN_COLS, ()
        else:
            target, cols, now = "runs", (*_RUN_COLS, "loaded_at", "updated_at"), (_now(self.cur),) * 2
        with self.cur.copy(f"COPY {target} ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([*_RUN_TYPES, *("timestamptz",) * len(now)])
            for r in rows:
                c = r.cols
                copy.write_row(
                    (
                        c.run_id,
                        c.trace_id,
                        c.parent_run_id,
                        c.project,
                        c.run_date,
                        c.start_time,
                        c.feedback_status,
                        _json(r.text),
                        r.encoding,
                        *now,
                    )
                )
        if target != "runs":
            self.cur.execute(_UPSERT_RUNS)

    def stored_feedback(self, feedback_ids: list[str]) -> dict[str, FeedbackColumns]:
        if not feedback_ids:
            return {}
        sql = f"SELECT {_FEEDBACK_DOCUMENTS_AS_TEXT} FROM feedback WHERE feedback_id = {_IDS}"
        return {
            row["feedback_id"]: stored_feedback_columns(row, documents_as_text=True)
            for row in self._select(sql, feedback_ids)
        }

    def upsert_feedback(self, rows: list[EncodedFeedback], *, all_new: bool) -> int:
        if not rows:
            return 0
        if all_new:
            self._copy_feedback("feedback", rows)
            return len(rows)
        self.cur.execute(_STAGE_FEEDBACK)
        self._copy_feedback("lse_stage_feedback", rows)
        self.cur.execute(_UPSERT_FEEDBACK)
        return max(self.cur.rowcount, 0)

    def forget_day_figures(self, days: set[tuple[str, date]]) -> None:
        for project, day in sorted(days):
            self.cur.execute("DELETE FROM day_figures WHERE project = %s AND run_date = %s", (project, day))

    def _copy_feedback(self, target: str, rows: list[EncodedFeedback]) -> None:
        with self.cur.copy(f"COPY {target} ({', '.join(_FB_COLS)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_FB_TYPES)
            for f in rows:
                c = f.cols
                copy.write_row(
                    (
                        c.feedback_id,
                        c.run_id,
                        c.trace_id,
                        c.project,
                        c.run_date,
                        f.key,
                        c.score,
                        _json(f.value),
                        f.comment,
                        _json(f.correction),
                        _json(f.source),
                        c.created_at,
                        c.modified_at,
                        f.encoding,
                    )
                )


def _as_is(text: str | bytes) -> str | bytes:
    return text


def _json(text: str | bytes | None) -> Jsonb | None:
    """JSON text we already hold (str, or UTF-8 bytes), sent as jsonb without being
    serialised again."""
    return None if text is None else Jsonb(text, _as_is)


def _now(cur: psycopg.Cursor) -> datetime:
    """The transaction's timestamp, as `now()` in the staging INSERT would give."""
    row = cur.execute("SELECT now()").fetchone()
    if row is None:
        raise StorageError("the database returned no row for SELECT now()")
    return row[0]


def _end(raw: Any, conn: psycopg.Connection) -> None:
    """After a failure: roll back and give the connection back to the pool; a connection
    that is gone (the server closed it, the network dropped) is discarded instead, so the
    pool neither tries to reset it nor hands it out again, and the original error is the
    one raised."""
    try:
        if not conn.broken:
            conn.rollback()
    except psycopg.Error:
        pass
    if conn.broken or conn.closed:
        raw.invalidate()
    else:
        raw.close()
