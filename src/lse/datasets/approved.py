"""Golden pairs from what reviewers approved: archived runs whose human verdict passed.

A pair is the run's question (an `inputs` field) and its answer (an `outputs` field),
taken from every run in the database that carries a feedback record `key` whose value
has `verdict == <verdict>` (e.g. {"verdict": "PASS", "rationale": {...}}). A run with a
later contrary verdict on the same key is left out: the newest record per run decides.
Pairs are unique by question (the first approved answer wins), in run start order.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from lse.records.batches import batched
from lse.store.models.archive import FeedbackRow, RunRow
from lse.store.stored_form import decode_stored

IDS_PER_QUERY = 500  # run ids bound in one IN (...): under SQLite's parameter limit


@dataclass(frozen=True)
class ApprovedPair:
    run_id: str
    question: str
    answer: str


def _plain(value: Any, encoding: str | None) -> Any:
    return decode_stored(value) if encoding else value


def _text(container: Any, field: str) -> str | None:
    value = container.get(field) if isinstance(container, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def approved_pairs(
    engine: Engine,
    project: str,
    days: list[date],
    *,
    key: str = "final_verdict",
    verdict: str = "PASS",
    question_field: str = "question",
    answer_field: str = "answer",
) -> list[ApprovedPair]:
    fb = FeedbackRow
    stmt = (
        select(fb.run_id, fb.value, fb.encoding)
        .where(fb.project == project, fb.key == key, fb.run_date.in_(days))
        # NULLs sort differently on SQLite and PostgreSQL: order by a value that is never NULL
        .order_by(fb.run_id, func.coalesce(fb.modified_at, fb.created_at), fb.feedback_id)
    )
    latest: dict[str, Any] = {}
    with engine.connect() as conn:
        for run_id, value, encoding in conn.execute(stmt):
            latest[run_id] = _plain(value, encoding)  # ordered: the newest record stays
        approved = [rid for rid, v in latest.items() if isinstance(v, dict) and v.get("verdict") == verdict]
        rows: list[tuple[datetime | None, str, Any, str | None]] = []
        for chunk in batched(approved, IDS_PER_QUERY):
            query = select(RunRow.start_time, RunRow.run_id, RunRow.data, RunRow.data_encoding)
            rows += [tuple(r) for r in conn.execute(query.where(RunRow.run_id.in_(chunk)))]
    rows.sort(key=lambda r: (r[0] is None, r[0], r[1]))
    pairs: list[ApprovedPair] = []
    seen: set[str] = set()
    for _start, run_id, data, encoding in rows:
        run = _plain(data, encoding)
        question = _text(run.get("inputs"), question_field)
        answer = _text(run.get("outputs"), answer_field)
        if question and answer and question not in seen:
            seen.add(question)
            pairs.append(ApprovedPair(run_id=run_id, question=question, answer=answer))
    return pairs


def pairs_csv(pairs: list[ApprovedPair]) -> bytes:
    """The pairs as the CSV a dataset upload takes (question, answer, category=run id)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["question", "answer", "category"])
    for p in pairs:
        writer.writerow([p.question, p.answer, f"run:{p.run_id}"])
    return buf.getvalue().encode("utf-8")
