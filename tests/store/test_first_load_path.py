"""A first load writes batches without looking their ids up; the first stored row it
meets sends that batch (rolled back) and every later one the way that merges."""

from __future__ import annotations

from sqlalchemy import select

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from lse.store.loader import load_day
from lse.store.models.archive import FeedbackRow, RunRow
from lse.store.stored_form import decode_stored


def reviewed(verdict: str) -> dict:
    run = make_run(feedback=[])
    run["feedback_records"] = [make_feedback(run, verdict=verdict)]
    return run


def test_new_batches_then_stored_runs_merge_and_never_shrink(db_settings, engine):
    old = [reviewed("FAIL") for _ in range(3)]
    write_day(db_settings, PROJECT, DAY, old)
    load_day(db_settings, PROJECT, DAY)

    # The day again: new runs first (whole batches of them), then the stored runs with
    # their feedback unknown this time — which must not erase the stored records.
    new = [reviewed("PASS") for _ in range(6)]
    unknown = [{**r, "feedback_records": None, "feedback_fetch_status": "not_fetched"} for r in old]
    write_day(db_settings, PROJECT, DAY, new + unknown)
    report = load_day(db_settings, PROJECT, DAY, batch_size=3)

    assert (report.runs_inserted, report.runs_updated + report.runs_unchanged, report.bad_rows_count) == (6, 3, 0)
    with engine.connect() as conn:
        runs = {r.run_id: r for r in conn.execute(select(RunRow.__table__))}
        fb = conn.execute(select(FeedbackRow.run_id)).scalars().all()
    assert len(runs) == 9 and sorted(fb) == sorted(r["id"] for r in old + new)
    for r in old:
        data = runs[r["id"]].data
        data = decode_stored(data) if runs[r["id"]].data_encoding else data
        assert [f["id"] for f in data["feedback_records"]] == [r["feedback_records"][0]["id"]]


def test_a_new_run_whose_feedback_row_is_stored_is_merged_not_refused(db_settings, engine):
    """A feedback record stored under another run makes the batch meet a stored row."""
    first = reviewed("FAIL")
    write_day(db_settings, PROJECT, DAY, [first])
    load_day(db_settings, PROJECT, DAY)

    other = make_run(feedback=[])
    moved = {**first["feedback_records"][0], "run_id": other["id"], "modified_at": "2030-01-01T00:00:00Z"}
    other["feedback_records"] = [moved]
    write_day(db_settings, PROJECT, DAY, [other])
    report = load_day(db_settings, PROJECT, DAY)

    assert (report.runs_inserted, report.feedback_rows, report.bad_rows_count) == (1, 1, 0)
    with engine.connect() as conn:
        row = conn.execute(select(FeedbackRow.run_id).where(FeedbackRow.feedback_id == moved["id"])).scalar_one()
    assert row == other["id"]
