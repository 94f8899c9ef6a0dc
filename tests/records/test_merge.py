"""The merge rule: never shrink, unknown never erases, newer modified_at wins."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lse.records import FeedbackStatus, feedback_status_of, merge_feedback, merge_run
from lse.records.timestamps import parse_utc


def rec(fid: str, modified: str, value: object = None) -> dict:
    return {"id": fid, "created_at": "2026-11-20T00:00:00", "modified_at": modified, "value": value}


def run(records, status=None, **extra):
    r = {"id": "run-1", "trace_id": "run-1", "feedback_stats": {"k": {"n": 1}}, **extra}
    if records is not None or status:
        r["feedback_records"] = records
    if status:
        r["feedback_fetch_status"] = status
    return r


def test_not_fetched_never_erases():
    stored = run([rec("a", "1")], "fetched")
    merged = merge_run(stored, run(None, "not_fetched", feedback_fetch_error="500"))
    assert merged["feedback_records"] == [rec("a", "1")]
    assert merged["feedback_fetch_status"] == "fetched"
    assert "feedback_fetch_error" not in merged


def test_shorter_list_keeps_stored_records():
    stored = run([rec("a", "1"), rec("b", "1")], "fetched")
    merged = merge_run(stored, run([rec("b", "1")], "fetched"))
    assert [r["id"] for r in merged["feedback_records"]] == ["a", "b"]


def test_newer_modified_at_wins_and_older_does_not():
    stored = run([rec("a", "2026-11-20T01:00:00", {"v": 1})], "fetched")
    newer = merge_run(stored, run([rec("a", "2026-11-21T00:00:00", {"v": 2})], "fetched"))
    older = merge_run(stored, run([rec("a", "2026-11-19T00:00:00", {"v": 0})], "fetched"))
    assert newer["feedback_records"][0]["value"] == {"v": 2}
    assert older["feedback_records"][0]["value"] == {"v": 1}


def test_one_instant_in_two_spellings_is_a_tie_and_takes_the_incoming_record():
    """Instants compare, not spellings; a tie takes the incoming record, as the
    database's feedback rows do, so the document and the table pick the same version
    (and reloading the files repairs a record changed in the database)."""
    stored = run([rec("a", "2026-11-20T00:00:00", {"v": "stored"})], "fetched")
    merged = merge_run(stored, run([rec("a", "2026-11-20T00:00:00Z", {"v": "incoming"})], "fetched"))
    assert merged["feedback_records"][0]["value"] == {"v": "incoming"}
    older = merge_run(stored, run([rec("a", "2026-11-19T23:59:59Z", {"v": "older"})], "fetched"))
    assert older["feedback_records"][0]["value"] == {"v": "stored"}


def test_an_unreadable_modified_at_falls_back_to_created_at():
    stored = run([dict(rec("a", "garbage", {"v": 1}), created_at="2026-11-20T05:00:00")], "fetched")
    older = run([rec("a", "2026-11-20T04:00:00", {"v": 0})], "fetched")
    newer = run([rec("a", "2026-11-20T06:00:00", {"v": 2})], "fetched")
    assert merge_run(stored, older)["feedback_records"][0]["value"] == {"v": 1}
    assert merge_run(stored, newer)["feedback_records"][0]["value"] == {"v": 2}


def test_unknown_old_format_is_not_empty():
    old = {"id": "run-1", "feedback_stats": {"k": {"n": 1}}}
    assert feedback_status_of(old) is FeedbackStatus.UNKNOWN
    merged = merge_run(None, old)
    assert merged.get("feedback_records") is None
    refreshed = merge_run(old, run([rec("a", "1")], "fetched"))
    assert refreshed["feedback_fetch_status"] == "fetched"
    assert len(refreshed["feedback_records"]) == 1


def test_not_fetched_over_unknown_stays_unknown_records():
    merged = merge_run({"id": "run-1"}, run(None, "not_fetched", feedback_fetch_error="boom"))
    assert merged["feedback_records"] is None
    assert merged["feedback_fetch_status"] == "not_fetched"


records_st = st.lists(
    st.builds(
        rec,
        fid=st.sampled_from(["a", "b", "c", "d"]),
        modified=st.sampled_from(["2026-11-20T01:00:00", "2026-11-20T02:00:00Z", "2026-11-20T03:00:00+00:00"]),
        value=st.integers(0, 3),
    ),
    max_size=5,
)
fetches = st.one_of(
    st.builds(lambda rs: run(rs, "fetched"), records_st),
    st.just(run(None, "not_fetched", feedback_fetch_error="x")),
    st.just({"id": "run-1", "feedback_stats": {"k": {"n": 1}}}),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(fetches, min_size=1, max_size=6))
def test_merging_any_sequence_never_loses_a_record_id(sequence):
    stored = None
    seen: set[str] = set()
    for incoming in sequence:
        before = {r["id"] for r in (stored or {}).get("feedback_records") or []}
        stored = merge_run(stored, incoming)
        after = {r["id"] for r in stored.get("feedback_records") or []}
        assert before <= after
        seen |= {r["id"] for r in incoming.get("feedback_records") or []}
    assert seen <= {r["id"] for r in stored.get("feedback_records") or []}


@settings(max_examples=200, deadline=None)
@given(records_st, records_st)
def test_feedback_merge_keeps_the_newest_version_of_each_id(a, b):
    merged = {r["id"]: r for r in merge_feedback(a, b)}
    for r in a + b:
        assert parse_utc(merged[r["id"]]["modified_at"]) >= parse_utc(r["modified_at"])
