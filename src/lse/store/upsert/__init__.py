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
from typing import Any, Protocol

from sqlalchemy import Engine

from lse.store.rows import FEEDBACK_COLUMNS, RUN_COLUMNS, FeedbackColumns, RunColumns, stored_feedback_columns
from lse.store.stored_form import ENCODING, encode_for_storage, encode_text


@dataclass(slots=True)
class EncodedRun:
    cols: RunColumns
    data: str  # JSON text in the stored form
    encoding: str | None


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


class BatchWriter(Protocol):
    # How many batches may be written at once, on as many connections. Batches written
    # together hold runs of disjoint shards (`shard_of`), so no two of them ever merge
    # the same run.
    writers: int

    def transaction(self, project: str, shards: Iterable[int]) -> AbstractContextManager[BatchTx]:
        """One batch's unit of work, holding the load lock of each shard it writes."""
        ...


# The load lock space: a run's shard depends only on its id, never on how many writers a
# loader uses, so loaders of any width exclude each other from the same run.
SHARDS = 16


def shard_of(run_id: str) -> int:
    return zlib.crc32(run_id.encode("utf-8")) % SHARDS


def writer_for(engine: Engine, writers: int = 1) -> BatchWriter:
    """The backend's writer; `writers` connections at once where the backend can use them."""
    if engine.dialect.name == "postgresql":
        from lse.store.upsert.postgres import PostgresWriter

        return PostgresWriter(engine, writers)
    from lse.store.upsert.sqlite import SqliteWriter

    return SqliteWriter(engine)


def encode_run(cols: RunColumns, data: dict[str, Any], line: str | None = None) -> EncodedRun:
    """`line`: the archive line `data` was parsed from, when `parse_line` found it storable."""
    if line is not None:
        return EncodedRun(cols, line, None)
    text, escaped = encode_for_storage(data)
    return EncodedRun(cols, text, ENCODING if escaped else None)


def encode_feedback(cols: FeedbackColumns, *, finite: bool = False) -> EncodedFeedback:
    """`finite`: the record came from a strict parse (see `encode_for_storage`)."""
    escaped = False

    def doc(value: Any) -> str | None:
        nonlocal escaped
        if value is None:
            return None
        text, esc = encode_for_storage(value, finite=finite)
        escaped |= esc
        return text

    def txt(value: str | None) -> str | None:
        nonlocal escaped
        out, esc = encode_text(value)
        escaped |= esc
        return out

    return EncodedFeedback(
        _scalars_only(cols),
        key=txt(cols.key),
        value=doc(cols.value),
        comment=txt(cols.comment),
        correction=doc(cols.correction),
        source=doc(cols.source),
        encoding=ENCODING if escaped else None,
    )


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
