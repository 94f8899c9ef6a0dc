"""Fetch records: what monitoring reads back is what the fetch and load wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from lse.archive.manifest import DayCounts, FetchCounters, Manifest
from lse.store.fetch_records import FetchRecord, recent, record


def test_record_and_recent_filter_newest_first(engine):
    t = datetime(2025, 9, 7, 8, 0, tzinfo=UTC)
    saved = [
        record(
            engine,
            FetchRecord(
                kind="fetch",
                project="a",
                day=date(2025, 9, 5),
                status="complete",
                counts={"runs": 10},
                requests=4,
                retries=1,
                rate_limited=1,
                errors=0,
                duration_s=2.5,
                started_at=t,
                finished_at=t + timedelta(seconds=2.5),
                details={"note": "error text with \x00 nul"},
            ),
        ),
        record(
            engine,
            FetchRecord(
                kind="load", project="a", day=date(2025, 9, 6), status="partial", started_at=t + timedelta(hours=1)
            ),
        ),
        record(
            engine,
            FetchRecord(
                kind="fetch", project="b", day=date(2025, 9, 6), status="incomplete", started_at=t + timedelta(hours=2)
            ),
        ),
    ]
    assert all(r.id for r in saved)

    assert [r.project for r in recent(engine)] == ["b", "a", "a"]
    only_a = recent(engine, project="a")
    assert [r.kind for r in only_a] == ["load", "fetch"]
    assert only_a[1] == saved[0]  # round trip, NUL in details included
    assert [r.day for r in recent(engine, since_day=date(2025, 9, 6))] == [date(2025, 9, 6)] * 2
    assert [r.project for r in recent(engine, kind="fetch")] == ["b", "a"]


def test_from_manifest(engine):
    fetched_at = datetime(2025, 9, 7, 1, 0, tzinfo=UTC)
    m = Manifest(
        project="p",
        date=date(2025, 9, 6),
        status="complete",
        counts=DayCounts(runs=3, traces=1),
        fetch=FetchCounters(requests=5, retries=2, rate_limited=1, errors=1, by_endpoint={"runs": 3}),
        duration_s=10.0,
        tool_version="0.1.0",
        fetched_at=fetched_at,
        runs_sha256="ab",
    )
    rec = record(engine, FetchRecord.from_manifest(m, kind="refetch_day"))
    assert rec.counts["runs"] == 3 and rec.requests == 5 and rec.rate_limited == 1
    assert rec.started_at == fetched_at - timedelta(seconds=10) and rec.finished_at == fetched_at
    assert recent(engine)[0] == rec
