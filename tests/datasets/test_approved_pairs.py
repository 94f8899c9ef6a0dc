"""Golden pairs from what reviewers approved (lse.datasets.approved), on both backends:
the newest verdict per run decides, pairs are unique by question in run start order,
escaped values come back as they were, and the CSV is what a dataset upload takes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from helpers.archive_builders import DAY, make_feedback, make_run, write_day
from lse.datasets.approved import ApprovedPair, approved_pairs, pairs_csv
from lse.store.engine import get_engine
from lse.store.loader import load_day

PROJECT = "support"
T0 = datetime(DAY.year, DAY.month, DAY.day, 12, 5, tzinfo=UTC)


def _run(question: str, answer: str, *verdicts: str, hour: int = 0, **extra):
    run = make_run(inputs={"question": question}, outputs={"answer": answer}, feedback=[], **extra)
    run["start_time"] = (T0 + timedelta(hours=hour)).isoformat()
    run["feedback_records"] = [
        make_feedback(run, verdict=v, created_at=T0 + timedelta(hours=hour, minutes=i)) for i, v in enumerate(verdicts)
    ]
    return run


def test_newest_verdict_decides_and_questions_are_unique(db_settings):
    runs = [
        _run("Capital of France?", "Paris", "PASS", hour=3),
        _run("2+2?", "4", "PASS", hour=1),
        _run("Overturned?", "no", "PASS", "FAIL", hour=2),  # a later FAIL removes it
        _run("Reinstated?", "yes", "FAIL", "PASS", hour=4),  # a later PASS adds it
        _run("2+2?", "four", "PASS", hour=5),  # the same question again: the first answer wins
        _run("Never judged?", "n/a", hour=6),
        _run("  ", "blank question", "PASS", hour=7),  # no usable question: left out
    ]
    write_day(db_settings, PROJECT, DAY, runs)
    assert load_day(db_settings, PROJECT, DAY).bad_rows_count == 0

    pairs = approved_pairs(get_engine(db_settings), PROJECT, [DAY])

    assert [(p.question, p.answer) for p in pairs] == [
        ("2+2?", "4"),
        ("Capital of France?", "Paris"),
        ("Reinstated?", "yes"),
    ]
    assert pairs[0].run_id == runs[1]["id"]
    failed = approved_pairs(get_engine(db_settings), PROJECT, [DAY], verdict="FAIL")
    assert [(p.question, p.answer) for p in failed] == [("Overturned?", "no")]
    assert approved_pairs(get_engine(db_settings), "another-project", [DAY]) == []


def test_escaped_text_comes_back_exactly(db_settings):
    question, answer = "nul\x00inside?", "surrogate \ud800 kept"
    write_day(db_settings, PROJECT, DAY, [_run(question, answer, "PASS")])
    load_day(db_settings, PROJECT, DAY)

    [pair] = approved_pairs(get_engine(db_settings), PROJECT, [DAY])

    assert (pair.question, pair.answer) == (question, answer)


def test_pairs_csv_is_an_upload_with_the_run_as_category():
    body = pairs_csv([ApprovedPair(run_id="r1", question='Say "hi", please', answer="hi\nthere")])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows == [["question", "answer", "category"], ['Say "hi", please', "hi\nthere", "run:r1"]]
