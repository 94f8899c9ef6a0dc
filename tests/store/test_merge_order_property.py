"""Property: whatever order the versions of a run's feedback are loaded in, the database
ends with the union of every record ever seen, each at its newest revision — in the
run document and in the feedback table. Unknown or not-fetched never erases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from lse.store.loader import load_day
from lse.store.models.archive import FeedbackRow, RunRow
from lse.store.stored_form import decode_stored

T0 = datetime(2025, 9, 6, 13, 0, tzinfo=UTC)

# A version of the run: ("fetched", {fid_index: revision}) | ("none",) | ("not_fetched",) | ("unknown",)
fetched = st.dictionaries(st.integers(0, 3), st.integers(0, 2), max_size=4).map(lambda d: ("fetched", d))
version = fetched | st.sampled_from([("none", {}), ("not_fetched", {}), ("unknown", {})])


def _build(run_id: str, fids: list[str], v: tuple[str, dict[int, int]]) -> dict:
    kind, revisions = v
    if kind == "unknown":
        return make_run(run_id=run_id, status=None, feedback=None)
    if kind == "not_fetched":
        return make_run(run_id=run_id, feedback=None)
    if kind == "none":
        return make_run(run_id=run_id, feedback=[], status="none")
    base = make_run(run_id=run_id, feedback=[])
    base["feedback_records"] = [
        make_feedback(
            base,
            feedback_id=fids[i],
            verdict=f"REV{rev}",
            created_at=T0,
            modified_at=T0 + timedelta(minutes=rev),
        )
        for i, rev in revisions.items()
    ]
    return base


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(versions=st.lists(version, min_size=1, max_size=4), order=st.randoms(use_true_random=False))
def test_load_order_never_loses_and_newest_wins(db_settings, engine, versions, order):
    run_id = str(uuid.uuid4())
    fids = [str(uuid.uuid4()) for _ in range(4)]
    shuffled = list(versions)
    order.shuffle(shuffled)
    for v in shuffled:
        write_day(db_settings, PROJECT, DAY, [_build(run_id, fids, v)])
        assert load_day(db_settings, PROJECT, DAY, engine=engine).bad_rows_count == 0

    newest: dict[str, int] = {}
    for _kind, revisions in versions:
        for i, rev in revisions.items():
            newest[fids[i]] = max(rev, newest.get(fids[i], -1))
    kinds = {k for k, _ in versions}

    with engine.connect() as conn:
        row = conn.execute(select(RunRow.__table__).where(RunRow.run_id == run_id)).one()
        table = {
            r.feedback_id: r.value["verdict"]
            for r in conn.execute(select(FeedbackRow.__table__).where(FeedbackRow.run_id == run_id))
        }
    data = decode_stored(row.data) if row.data_encoding else row.data
    records = {r["id"]: r["value"]["verdict"] for r in data.get("feedback_records") or []}
    expected = {fid: f"REV{rev}" for fid, rev in newest.items()}
    assert records == expected
    assert table == expected
    if newest:
        assert row.feedback_status == "fetched"
    elif kinds & {"fetched", "none"}:
        assert row.feedback_status in {"fetched", "none"} and data["feedback_records"] == []
    else:
        assert data.get("feedback_records") is None  # unknown stays unknown, never "no feedback"
        assert row.feedback_status in {"not_fetched", "unknown"}
