"""Batched upserts of runs and feedback rows, one implementation per backend.

The loader decides *what* to write (the merge); a writer only knows *how* to write a
batch fast on its backend: SQLite with executemany in one IMMEDIATE transaction,
PostgreSQL with COPY into temp staging tables and one INSERT … ON CONFLICT each.
Both read the stored runs of a batch with one SELECT inside the same transaction,
under a lock that keeps concurrent loaders of a project from merging against stale
rows. Driver errors become StorageError here, where they enter.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from lse.store.errors import database_error
from lse.store.rows import FEEDBACK_COLUMNS, RUN_COLUMNS, FeedbackColumns, RunColumns, stored_feedback_columns
from lse.store.stored_form import ENCODING, encode_for_storage, encode_text


@dataclass(slots=True)
class EncodedRun:
    cols: RunColumns
    # JSON text in the stored form. Bytes: an archive line stored as is, kept as read (an
    # ASCII line is its own UTF-8, maybe with its newline): decoding 2-3 KB per run only
    # for the COPY to encode it back cost ~10% of preparing a batch.
    text: str | bytes
    encoding: str | None

    @property
    def data(self) -> str:
        """The JSON text as a string."""
        return self.text if isinstance(self.text, str) else self.text.decode("utf-8").strip()

    @property
    def utf8(self) -> bytes:
        """The JSON text as UTF-8 (surrounding whitespace allowed)."""
        return self.text if isinstance(self.text, bytes) else self.text.encode("utf-8")


@dataclass(slots=True)
class EncodedFeedback:
    # The row's scalar columns. Its parsed documents (value, correction, source) are
    # cleared once encoded: the texts below are what is written, and a batch waiting
    # for the database should hold strings rather than thousands of small dicts, which
    # the garbage collector would otherwise scan again and again (~20% of preparing a
    # batch, bench/bench_load.py).
    cols: FeedbackColumns
    key: str | None
    value: str | None  # JSON texts in the stored form, None = SQL NULL
    comment: str | None
    correction: str | None
    source: str | None
    encoding: str | None


@dataclass(slots=True)
class StoredRun:
    """A run as the database holds it: the decoded document and the index columns (so a
    reload also rewrites columns that drifted from what the document says)."""

    data: dict[str, Any]
    cols: RunColumns


# The run columns as both backends SELECT them (read back by name).
STORED_RUN_COLUMNS = ", ".join(RUN_COLUMNS)
# The feedback columns as both backends SELECT them, JSON documents as text.
STORED_FEEDBACK_COLUMNS = ", ".join(FEEDBACK_COLUMNS)


class BatchTx(Protocol):
    def stored_runs(self, run_ids: list[str]) -> dict[str, StoredRun]:
        """Those of the runs that exist, as stored."""
        ...

    def upsert_runs(self, rows: list[EncodedRun]) -> None: ...

    def stored_feedback(self, feedback_ids: list[str]) -> dict[str, FeedbackColumns]:
        """Those of the feedback rows that exist, decoded (`stored_feedback_columns`)."""
        ...

    def upsert_feedback(self, rows: list[EncodedFeedback], *, all_new: bool) -> int:
        """Insert or replace these rows, never replacing a stored row strictly newer than
        the incoming one; `all_new`: none of their ids is stored (a plain insert will do).
        Returns how many rows were inserted or replaced."""
        ...

    def forget_day_figures(self, days: set[tuple[str, date]]) -> None:
        """Delete the figures of these (project, day)s: their rows change in this transaction."""
        ...


class AlreadyStored(Exception):
    """A batch written as all new (`BatchWriter.transaction(assume_new=True)`) met a row
    that is stored already; nothing of it was written."""


class BatchWriter(Protocol):
    # How many batches may be written at once, on as many connections. Batches written
    # together hold runs of disjoint shards (`shard_of`), so no two of them ever merge
    # the same run.
    writers: int
    # Whether the database has the `day_figures` table (a database migrated before it,
    # opened without the upgrade check, is loaded without figures).
    keeps_day_figures: bool
    # Whether a batch may first be written as all new, without looking its ids up: true
    # until a batch meets a stored row (a first load, the bulk case, never does).
    assumes_new: bool

    def transaction(
        self, project: str, shards: Iterable[int], *, assume_new: bool = False
    ) -> AbstractContextManager[BatchTx]:
        """One batch's unit of work, holding the load lock of each shard it writes.
        `assume_new`: a unique violation raises AlreadyStored (the batch is rolled back)."""
        ...


# The load lock space: a run's shard depends only on its id, never on how many writers a
# loader uses, so loaders of any width exclude each other from the same run.
SHARDS = 16


def shard_of(run_id: str) -> int:
    return zlib.crc32(run_id.encode("utf-8")) % SHARDS


def writer_for(engine: Engine, writers: int = 1) -> BatchWriter:
    """The backend's writer; `writers` connections at once where the backend can use them."""
    writer: BatchWriter
    if engine.dialect.name == "postgresql":
        from lse.store.upsert.postgres import PostgresWriter

        writer = PostgresWriter(engine, writers)
    else:
        from lse.store.upsert.sqlite import SqliteWriter

        writer = SqliteWriter(engine)
    try:
        writer.keeps_day_figures = inspect(engine).has_table("day_figures")
    except SQLAlchemyError as exc:
        raise database_error(exc, "reading the schema") from exc
    return writer


def encode_run(cols: RunColumns, data: dict[str, Any], line: str | bytes | None = None) -> EncodedRun:
    """`line`: the archive line `data` was parsed from, when `parse_line` found it
    storable (or its bytes, when `rows.skim_run_fields` did)."""
    if line is not None:
        return EncodedRun(cols, line, None)
    text, escaped = encode_for_storage(data)
    return EncodedRun(cols, text, ENCODING if escaped else None)


def encode_feedback(cols: FeedbackColumns, *, finite: bool = False) -> EncodedFeedback:
    """`finite`: the record came from a strict parse (see `encode_for_storage`)."""
    key, key_escaped = encode_text(cols.key)
    comment, comment_escaped = encode_text(cols.comment)
    value, value_escaped = _document(cols.value, finite)
    correction, correction_escaped = _document(cols.correction, finite)
    source, source_escaped = _document(cols.source, finite)
    escaped = key_escaped or comment_escaped or value_escaped or correction_escaped or source_escaped
    return EncodedFeedback(
        _scalars_only(cols),
        key=key,
        value=value,
        comment=comment,
        correction=correction,
        source=source,
        encoding=ENCODING if escaped else None,
    )


def _document(value: Any, finite: bool) -> tuple[str | None, bool]:
    """A document column's stored form (None = SQL NULL), and whether it was escaped."""
    if value is None:
        return None, False
    return encode_for_storage(value, finite=finite)


def _scalars_only(c: FeedbackColumns) -> FeedbackColumns:
    """`c` without its parsed documents (`dataclasses.replace` costs 7x more)."""
    return FeedbackColumns(
        feedback_id=c.feedback_id,
        run_id=c.run_id,
        trace_id=c.trace_id,
        project=c.project,
        run_date=c.run_date,
        key=c.key,
        score=c.score,
        value=None,
        comment=c.comment,
        correction=None,
        source=None,
        created_at=c.created_at,
        modified_at=c.modified_at,
    )


def decode_encoded(f: EncodedFeedback) -> FeedbackColumns:
    """What an encoded row will say once stored: the same decoding as rows read back."""
    c = f.cols
    row = {name: getattr(c, name) for name in ("feedback_id", "run_id", "trace_id", "project", "run_date", "score")}
    row.update(
        key=f.key,
        value=f.value,
        comment=f.comment,
        correction=f.correction,
        source=f.source,
        created_at=c.created_at,
        modified_at=c.modified_at,
        encoding=f.encoding,
    )
    return stored_feedback_columns(row, documents_as_text=True)
