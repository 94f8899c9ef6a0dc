"""Loading archived days: upsert by id, merge never shrinks, idempotent, odd data survives,
a bad row is isolated — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, with_feedback, write_day
from lse.errors import NotFoundError, RowRefused, StorageError
from lse.store import fetch_records
from lse.store.loader import load_day, load_range
from lse.store.models.archive import FeedbackRow, RunRow
from lse.store.rows import canonical_run_text
from lse.store.stored_form import ENCODING, MAX_NESTING, decode_stored
from lse.store.verify import verify_day


def stored_runs(engine: Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(RunRow.__table__)).all()
    return {r.run_id: r for r in rows}


def stored_data(engine: Engine, run_id: str) -> dict:
    row = stored_runs(engine)[run_id]
    return decode_stored(row.data) if row.data_encoding else row.data


def feedback_rows(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {r.feedback_id: r for r in conn.execute(select(FeedbackRow.__table__)).all()}


def run_with_feedback(n: int = 2, **kw) -> dict:
    run = make_run(feedback=[], **kw)
    run["feedback_records"] = [
        make_feedback(run, verdict="FAIL" if i == 0 else "PASS", true_factors=("criteria_a",) if i == 0 else ())
        for i in range(n)
    ]
    return run


def test_load_stores_runs_columns_and_feedback_rows(db_settings, engine):
    child_parent = run_with_feedback(2)
    child = make_run(trace_id=child_parent["trace_id"], parent_run_id=child_parent["id"], feedback=None, status="none")
    child["feedback_records"] = []
    write_day(db_settings, PROJECT, DAY, [child_parent, child])

    report = load_day(db_settings, PROJECT, DAY)

    assert (report.runs_read, report.runs_inserted, report.status) == (2, 2, "complete")
    assert report.feedback == {"fetched": 1, "none": 1, "not_fetched": 0, "unknown": 0}
    rows = stored_runs(engine)
    parent_row = rows[child_parent["id"]]
    assert parent_row.trace_id == child_parent["trace_id"] and parent_row.project == PROJECT
    assert parent_row.run_date == DAY and parent_row.feedback_status == "fetched"
    assert parent_row.data == child_parent  # exactly as archived
    assert rows[child["id"]].parent_run_id == child_parent["id"]
    fb = feedback_rows(engine)
    assert set(fb) == {r["id"] for r in child_parent["feedback_records"]}
    first = fb[child_parent["feedback_records"][0]["id"]]
    assert first.value["verdict"] == "FAIL" and first.value["rationale"]["criteria_a"] is True
    assert first.key == "final_verdict" and first.score == 0.0 and first.source["type"] == "api"
    assert first.run_id == child_parent["id"] and first.run_date == DAY


def test_loading_twice_changes_nothing(db_settings, engine):
    runs = [run_with_feedback(2), make_run(status=None, feedback=None), make_run(feedback=None)]
    write_day(db_settings, PROJECT, DAY, runs)
    assert load_day(db_settings, PROJECT, DAY).feedback_rows == 2
    before_runs, before_fb = stored_runs(engine), feedback_rows(engine)

    again = load_day(db_settings, PROJECT, DAY)

    assert again.feedback_rows == 0  # the rows are sent again (to fill gaps), none is written
    assert (again.runs_inserted, again.runs_updated, again.runs_unchanged) == (0, 0, 3)
    assert stored_runs(engine) == before_runs  # updated_at included: no write happened
    assert feedback_rows(engine) == before_fb


def test_merge_never_shrinks(db_settings, engine):
    run = run_with_feedback(3)
    write_day(db_settings, PROJECT, DAY, [run])
    load_day(db_settings, PROJECT, DAY)
    all_ids = {r["id"] for r in run["feedback_records"]}

    for later in (
        with_feedback(run, run["feedback_records"][:1]),  # a shorter list
        with_feedback(run, None, "not_fetched"),  # feedback could not be fetched
        {k: v for k, v in run.items() if not k.startswith("feedback_r") and k != "feedback_fetch_status"},  # old format
        with_feedback(run, [], "none"),  # LangSmith now says none
    ):
        write_day(db_settings, PROJECT, DAY, [later])
        load_day(db_settings, PROJECT, DAY)
        data = stored_data(engine, run["id"])
        assert {r["id"] for r in data["feedback_records"]} == all_ids
        assert data["feedback_fetch_status"] == "fetched"
        assert set(feedback_rows(engine)) == all_ids


def test_newer_modified_at_replaces_in_document_and_table(db_settings, engine):
    run = run_with_feedback(1)
    rec = run["feedback_records"][0]
    write_day(db_settings, PROJECT, DAY, [run])
    load_day(db_settings, PROJECT, DAY)
    t = datetime.fromisoformat(rec["modified_at"])
    newer = dict(rec, value={"verdict": "PASS", "rationale": {}}, modified_at=(t + timedelta(hours=1)).isoformat())
    older = dict(rec, value={"verdict": "STALE", "rationale": {}}, modified_at=(t - timedelta(hours=1)).isoformat())

    write_day(db_settings, PROJECT, DAY, [with_feedback(run, [newer])])
    load_day(db_settings, PROJECT, DAY)
    write_day(db_settings, PROJECT, DAY, [with_feedback(run, [older])])
    load_day(db_settings, PROJECT, DAY)

    assert stored_data(engine, run["id"])["feedback_records"] == [newer]
    assert feedback_rows(engine)[rec["id"]].value == {"verdict": "PASS", "rationale": {}}


def test_old_format_files_load_as_feedback_unknown(db_settings, engine):
    old = make_run(status=None, feedback=None)
    assert "feedback_records" not in old and "feedback_fetch_status" not in old
    write_day(db_settings, PROJECT, DAY, [old], manifest=False)

    report = load_day(db_settings, PROJECT, DAY)

    assert report.feedback["unknown"] == 1 and report.feedback["none"] == 0
    row = stored_runs(engine)[old["id"]]
    assert row.feedback_status == "unknown" and row.data == old
    assert feedback_rows(engine) == {}


NASTY = {
    "nul": "before\x00after",
    "surrogate": "lone \ud83d high and \udc00 low",
    "key\x00with nul": {"\ud800": ["x\x00", "\\u0000 literal", "\ue000lse1s:looks escaped"]},
    "big": "x" * 50_000 + "\x00",
    "nan": math.nan,
    "inf": [math.inf, -math.inf],
}


def _deep(depth: int) -> object:
    node: object = "leaf\x00"
    for i in range(depth):
        node = {f"k{i}": node} if i % 2 else [node]
    return node


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_nul_surrogates_large_deep_and_nan_load_and_recover_exactly(db_settings, engine):
    nasty = make_run(inputs=dict(NASTY), outputs={"deep": _deep(60)}, feedback=[])
    nasty["feedback_records"] = [make_feedback(nasty, comment="comment\x00with nul \udfff", verdict="FAIL")]
    nasty["feedback_records"][0]["value"]["note"] = "\x00"
    plain = run_with_feedback(1)
    write_day(db_settings, PROJECT, DAY, [nasty, plain])

    report = load_day(db_settings, PROJECT, DAY)

    assert report.bad_rows_count == 0 and report.runs_inserted == 2 and report.runs_escaped == 1
    rows = stored_runs(engine)
    assert rows[nasty["id"]].data_encoding == ENCODING and rows[plain["id"]].data_encoding is None
    assert _same(decode_stored(rows[nasty["id"]].data), nasty)
    fb = feedback_rows(engine)[nasty["feedback_records"][0]["id"]]
    assert fb.encoding == ENCODING
    assert decode_stored(fb.comment) == "comment\x00with nul \udfff"
    assert decode_stored(fb.value)["note"] == "\x00"
    assert load_day(db_settings, PROJECT, DAY).runs_unchanged == 2  # and it is stable


def test_a_row_the_database_refuses_is_isolated(db_settings, engine, refuse_run):
    runs = [run_with_feedback(1) for _ in range(5)]
    runs[2]["id"] = "refuse-me"
    refuse_run(engine, "refuse-me")
    write_day(db_settings, PROJECT, DAY, [*runs, {"name": "a line with no id"}], raw_lines=["not json {"])

    report = load_day(db_settings, PROJECT, DAY, batch_size=4)

    assert report.status == "partial" and report.bad_rows_count == 3
    assert {b.run_id for b in report.bad_rows} == {"refuse-me", None}
    assert {b.position for b in report.bad_rows} == {3, 6, 7}
    assert set(stored_runs(engine)) == {r["id"] for r in runs} - {"refuse-me"}
    record = fetch_records.recent(engine, project=PROJECT, kind="load")[0]
    assert record.status == "partial" and record.counts["bad_rows"] == 3


def test_a_batch_mixing_stored_and_new_runs(db_settings, engine):
    first = run_with_feedback(1)
    write_day(db_settings, PROJECT, DAY, [first])
    load_day(db_settings, PROJECT, DAY)
    changed = with_feedback(dict(first, outputs={"answer": "5"}), first["feedback_records"] + [make_feedback(first)])
    new = run_with_feedback(1)
    write_day(db_settings, PROJECT, DAY, [changed, new])

    report = load_day(db_settings, PROJECT, DAY)

    assert (report.runs_inserted, report.runs_updated) == (1, 1)
    assert stored_data(engine, first["id"])["outputs"] == {"answer": "5"}
    assert stored_data(engine, new["id"]) == new
    assert len(feedback_rows(engine)) == 3


def test_streams_in_batches_and_handles_a_run_listed_twice(db_settings, engine):
    runs = [run_with_feedback(1) for _ in range(25)]
    dup = with_feedback(runs[3], runs[3]["feedback_records"] + [make_feedback(runs[3])])
    write_day(db_settings, PROJECT, DAY, [*runs, dup])

    report = load_day(db_settings, PROJECT, DAY, batch_size=7)

    assert report.runs_read == 26 and report.runs_inserted == 25
    assert len(stored_data(engine, runs[3]["id"])["feedback_records"]) == 2
    assert len(feedback_rows(engine)) == 26


def test_load_records_a_fetch_record_and_range_lists_missing_days(db_settings, engine):
    write_day(db_settings, PROJECT, DAY, [run_with_feedback(1)])
    out = load_range(db_settings, PROJECT, DAY - timedelta(days=1), DAY + timedelta(days=1))
    assert [d.day for d in out.days] == [DAY]
    assert out.days_not_archived == [DAY - timedelta(days=1), DAY + timedelta(days=1)]
    rec = fetch_records.recent(engine, project=PROJECT)[0]
    assert rec.kind == "load" and rec.status == "complete" and rec.counts["inserted"] == 1
    assert rec.started_at <= rec.finished_at <= datetime.now(UTC)


def test_a_day_not_archived_is_not_found(db_settings):
    with pytest.raises(NotFoundError):
        load_day(db_settings, PROJECT, DAY)


def test_feedback_table_refills_rows_it_lost(db_settings, engine):
    run = run_with_feedback(2)
    write_day(db_settings, PROJECT, DAY, [run])
    load_day(db_settings, PROJECT, DAY)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM feedback"))
    load_day(db_settings, PROJECT, DAY)
    assert len(feedback_rows(engine)) == 2


def test_a_reload_rewrites_index_columns_that_drifted(db_settings, engine):
    """The document is not the only thing a reload checks: columns changed behind lse's
    back are rewritten from the document."""
    run = run_with_feedback(1)
    write_day(db_settings, PROJECT, DAY, [run])
    load_day(db_settings, PROJECT, DAY)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE runs SET trace_id = 'wrong', feedback_status = 'unknown', start_time = NULL WHERE run_id = :r"
            ),
            {"r": run["id"]},
        )

    report = load_day(db_settings, PROJECT, DAY)

    assert (report.runs_updated, report.runs_unchanged) == (1, 0)
    row = stored_runs(engine)[run["id"]]
    assert (row.trace_id, row.feedback_status) == (run["trace_id"], "fetched")
    assert row.start_time is not None
    assert load_day(db_settings, PROJECT, DAY).runs_unchanged == 1


def test_timestamps_outside_the_datetime_range_are_null_columns_not_errors(db_settings, engine):
    run = make_run(feedback=[])
    run["feedback_records"] = [make_feedback(run)]
    run["start_time"] = "9999-12-31T23:00:00-05:00"  # after 9999 in UTC
    run["feedback_records"][0].update(created_at="0001-01-01T00:00:00+05:00", modified_at="0001-01-01T00:00:00+05:00")
    write_day(db_settings, PROJECT, DAY, [run])

    report = load_day(db_settings, PROJECT, DAY)

    assert (report.runs_inserted, report.bad_rows_count) == (1, 0)
    assert stored_runs(engine)[run["id"]].start_time is None
    assert stored_data(engine, run["id"]) == run  # the raw values stay in the document
    fb = feedback_rows(engine)[run["feedback_records"][0]["id"]]
    assert fb.created_at is None and fb.modified_at is None


def test_ids_no_column_can_hold_make_bad_rows_on_every_backend(db_settings, engine):
    good = run_with_feedback(1)
    nul_run = make_run(feedback=[], run_id="run\x00id")
    nul_feedback = run_with_feedback(1)
    nul_feedback["feedback_records"][0]["id"] = "fb\x00id"
    surrogate_trace = make_run(feedback=[], trace_id="trace \ud800")
    write_day(db_settings, PROJECT, DAY, [good, nul_run, nul_feedback, surrogate_trace])

    report = load_day(db_settings, PROJECT, DAY)

    assert report.status == "partial" and [b.position for b in report.bad_rows] == [2, 3, 4]
    assert all("U+0000 or a lone surrogate" in b.error for b in report.bad_rows)
    assert set(stored_runs(engine)) == {good["id"]}


@pytest.mark.parametrize("writers", [1, 2])
def test_a_batch_of_only_bad_rows_is_isolated_not_fatal(db_settings, engine, refuse_run, writers):
    """Even a batch whose every row the database refuses (the last, short one here) is a
    partial load: the refused rows are reported, everything else lands."""
    runs = [run_with_feedback(1) for _ in range(6)]
    runs[4]["id"], runs[5]["id"] = "refuse-me", "refuse-me-too"
    refuse_run(engine, "refuse-me", "refuse-me-too")
    write_day(db_settings, PROJECT, DAY, runs)
    settings = db_settings.model_copy(update={"load_writers": writers})

    report = load_day(settings, PROJECT, DAY, batch_size=4)

    assert report.status == "partial" and {b.run_id for b in report.bad_rows} == {"refuse-me", "refuse-me-too"}
    assert set(stored_runs(engine)) == {r["id"] for r in runs[:4]}


def test_an_error_that_is_not_about_a_row_stops_the_load(db_settings, engine):
    """A missing table is not 'every row is bad': the load fails with the database's
    error instead of reporting the whole day as bad rows."""
    write_day(db_settings, PROJECT, DAY, [run_with_feedback(1) for _ in range(3)])
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE feedback"))

    with pytest.raises(StorageError, match="feedback") as caught:
        load_day(db_settings, PROJECT, DAY)
    assert not isinstance(caught.value, RowRefused)


def test_a_non_finite_score_is_a_null_column_on_both_backends(db_settings, engine):
    run = run_with_feedback(1)
    run["feedback_records"][0]["score"] = math.nan
    write_day(db_settings, PROJECT, DAY, [run])

    load_day(db_settings, PROJECT, DAY)

    assert feedback_rows(engine)[run["feedback_records"][0]["id"]].score is None
    assert math.isnan(stored_data(engine, run["id"])["feedback_records"][0]["score"])


def test_nesting_up_to_the_limit_loads_and_deeper_is_a_bad_row(db_settings, engine):
    """800 levels (the run object, `outputs`, then 798 with a NUL at the bottom, which
    must be escaped) store and come back exactly; one level more, or a line nested past
    what Python's JSON parser reads at all, is a bad row — reported, left in the archive
    file, and reported by verify the same way."""
    assert MAX_NESTING == 800
    deep = make_run(feedback=[], outputs={"deep": _deep(798)})
    one_more = make_run(feedback=[], outputs={"deep": _deep(799)})
    too_deep = '{"id": "too-deep", "outputs": ' + "[" * 1200 + '"x"' + "]" * 1200 + "}"
    write_day(db_settings, PROJECT, DAY, [deep, one_more], raw_lines=[too_deep])

    report = load_day(db_settings, PROJECT, DAY)

    assert report.runs_inserted == 1 and [b.position for b in report.bad_rows] == [2, 3]
    assert all("nested deeper than 800 levels" in b.error for b in report.bad_rows)
    assert _same(stored_data(engine, deep["id"]), deep)
    assert load_day(db_settings, PROJECT, DAY).runs_unchanged == 1
    verified = verify_day(db_settings, PROJECT, DAY)
    assert [d.kind for d in verified.differences] == ["run_unreadable_in_file"] * 2


def test_timestamps_before_the_year_1000_sort_and_read_back(db_settings, engine):
    """Go's zero time (0001-01-01) is a real value in traces; on SQLite the stored text
    must keep four year digits, or it sorts after 2025 and does not read back."""
    run = run_with_feedback(1)
    rec = run["feedback_records"][0]
    run["start_time"] = "0001-01-01T00:00:00Z"
    old = dict(rec, value={"verdict": "OLD", "rationale": {}}, modified_at="0500-01-01T00:00:00Z")
    write_day(db_settings, PROJECT, DAY, [with_feedback(run, [old])])
    load_day(db_settings, PROJECT, DAY)
    new = dict(rec, value={"verdict": "NEW", "rationale": {}}, modified_at="2025-01-03T00:00:00Z")
    write_day(db_settings, PROJECT, DAY, [with_feedback(run, [new])])

    assert load_day(db_settings, PROJECT, DAY).feedback_rows == 1
    assert feedback_rows(engine)[rec["id"]].value == {"verdict": "NEW", "rationale": {}}
    assert stored_runs(engine)[run["id"]].start_time.year == 1
    assert load_day(db_settings, PROJECT, DAY).runs_unchanged == 1
    assert verify_day(db_settings, PROJECT, DAY).ok


def test_a_reload_repairs_feedback_changed_behind_lses_back(db_settings, engine):
    """The files are the record: a feedback row or an in-document record changed in the
    database (without a newer modified_at) is rewritten from the files on reload."""
    run = run_with_feedback(2)
    first, second = run["feedback_records"]
    write_day(db_settings, PROJECT, DAY, [run])
    load_day(db_settings, PROJECT, DAY)
    tampered = dict(run, feedback_records=[dict(first, value={"verdict": "TAMPERED", "rationale": {}}), second])
    param, cast = json.dumps(tampered), "CAST(:d AS JSONB)" if engine.dialect.name == "postgresql" else ":d"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE runs SET data = {cast} WHERE run_id = :r"), {"d": param, "r": run["id"]})
        conn.execute(
            text("UPDATE feedback SET score = 0.25, comment = 'edited', trace_id = 'x' WHERE feedback_id = :f"),
            {"f": second["id"]},
        )
    assert not verify_day(db_settings, PROJECT, DAY).ok

    report = load_day(db_settings, PROJECT, DAY)

    assert (report.runs_updated, report.feedback_rows) == (1, 1)  # the document, and the one row changed
    assert canonical_run_text(stored_data(engine, run["id"])) == canonical_run_text(run)
    row = feedback_rows(engine)[second["id"]]
    assert (row.score, row.comment, row.trace_id) == (second["score"], second["comment"], run["trace_id"])
    assert feedback_rows(engine)[first["id"]].value == first["value"]
    assert verify_day(db_settings, PROJECT, DAY).ok
    assert load_day(db_settings, PROJECT, DAY).feedback_rows == 0


def test_a_record_listed_twice_in_one_run_is_one_row_and_verifies(db_settings, engine):
    """The fetcher never writes one, but a hand-made file may: the merge keeps one of
    them (the later of a tie), in the document and in the table alike."""
    run = run_with_feedback(1)
    rec = run["feedback_records"][0]
    run["feedback_records"] = [rec, dict(rec, comment="the later copy")]
    write_day(db_settings, PROJECT, DAY, [run])

    load_day(db_settings, PROJECT, DAY)

    assert feedback_rows(engine)[rec["id"]].comment == "the later copy"
    assert verify_day(db_settings, PROJECT, DAY).ok
    again = load_day(db_settings, PROJECT, DAY)
    assert (again.runs_unchanged, again.feedback_rows) == (1, 0)
    assert verify_day(db_settings, PROJECT, DAY).ok
