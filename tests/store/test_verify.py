"""verify: files and database agree after a load, and every kind of tampering is caught."""

from __future__ import annotations

import json

from sqlalchemy import text

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from lse.store.loader import load_day
from lse.store.verify import verify_day


def _day(db_settings, n: int = 3) -> list[dict]:
    runs = []
    for i in range(n):
        run = make_run(feedback=[], inputs={"q": f"question {i}", "odd": "nul\x00"})
        run["feedback_records"] = [make_feedback(run, verdict="FAIL"), make_feedback(run)]
        runs.append(run)
    runs.append(make_run(status=None, feedback=None))
    write_day(db_settings, PROJECT, DAY, runs)
    load_day(db_settings, PROJECT, DAY)
    return runs


def _kinds(report) -> set[str]:
    return {d.kind for d in report.differences}


def test_agrees_after_load(db_settings, engine):
    _day(db_settings)
    report = verify_day(db_settings, PROJECT, DAY)
    assert report.ok, report.differences
    assert (report.runs_in_files, report.runs_in_db, report.feedback_in_files, report.feedback_rows_in_db) == (
        4,
        4,
        6,
        6,
    )


def test_catches_a_tampered_run_document(db_settings, engine):
    runs = _day(db_settings)
    target = runs[1]["id"]
    with engine.begin() as conn:
        data = conn.execute(text("SELECT data FROM runs WHERE run_id = :r"), {"r": target}).scalar_one()
        doc = json.loads(data) if isinstance(data, str) else data
        doc["outputs"] = {"answer": "tampered"}
        doc["feedback_records"][0]["value"]["verdict"] = "PASS"
        doc["feedback_records"].pop()
        param = json.dumps(doc)
        cast = "CAST(:d AS JSONB)" if engine.dialect.name == "postgresql" else ":d"
        conn.execute(text(f"UPDATE runs SET data = {cast} WHERE run_id = :r"), {"d": param, "r": target})

    report = verify_day(db_settings, PROJECT, DAY)

    assert not report.ok
    assert _kinds(report) == {"data_mismatch", "feedback_mismatch", "feedback_missing_in_db"}
    assert {d.run_id for d in report.differences} == {target}
    assert any("outputs" in d.detail for d in report.differences)


def test_catches_missing_extra_and_changed_rows(db_settings, engine):
    runs = _day(db_settings)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM runs WHERE run_id = :r"), {"r": runs[0]["id"]})
        conn.execute(text("UPDATE runs SET trace_id = 'other-trace' WHERE run_id = :r"), {"r": runs[2]["id"]})
        conn.execute(
            text("UPDATE feedback SET score = 0.5 WHERE feedback_id = :f"), {"f": runs[1]["feedback_records"][0]["id"]}
        )
        conn.execute(text("DELETE FROM feedback WHERE feedback_id = :f"), {"f": runs[1]["feedback_records"][1]["id"]})
    extra = make_run(feedback=[])
    write_day(db_settings, PROJECT, DAY, [extra])
    load_day(db_settings, PROJECT, DAY)
    write_day(db_settings, PROJECT, DAY, runs)  # the files no longer hold `extra`

    report = verify_day(db_settings, PROJECT, DAY)

    assert _kinds(report) == {
        "run_missing_in_db",
        "run_extra_in_db",
        "column_mismatch",
        "feedback_row_mismatch",
        "feedback_row_missing",
    }
    by_kind = {d.kind: d for d in report.differences}
    assert by_kind["run_missing_in_db"].run_id == runs[0]["id"]
    assert by_kind["run_extra_in_db"].run_id == extra["id"]
    assert "trace_id" in by_kind["column_mismatch"].detail
    assert "score" in by_kind["feedback_row_mismatch"].detail


def test_a_run_listed_again_far_down_the_file_is_compared_merged(db_settings, engine):
    """The loader merges a run's lines across batches through the database; verify
    merges them over the whole file too, so a correct load is not reported."""
    runs = _day(db_settings)
    filler = [make_run(feedback=[]) for _ in range(12)]
    again = dict(
        runs[0], feedback_records=[*runs[0]["feedback_records"][:1], make_feedback(runs[0], key="helpfulness")]
    )
    write_day(db_settings, PROJECT, DAY, runs + filler + [again] + filler[:2])
    load_day(db_settings, PROJECT, DAY, batch_size=4)

    report = verify_day(db_settings, PROJECT, DAY, batch_size=4)

    assert report.ok, report.differences
    assert report.feedback_in_files == 7 and report.runs_in_files == 16  # 19 lines, 16 runs


def test_lines_the_loader_isolates_are_reported_not_fatal(db_settings, engine):
    good = make_run(feedback=[])
    write_day(db_settings, PROJECT, DAY, [good, make_run(feedback=[], run_id="nul\x00id")], raw_lines=["{not json"])
    load_day(db_settings, PROJECT, DAY)

    report = verify_day(db_settings, PROJECT, DAY)

    assert [d.kind for d in report.differences] == ["run_unreadable_in_file"] * 2
    assert "line 2" in report.differences[0].detail and "U+0000" in report.differences[0].detail
