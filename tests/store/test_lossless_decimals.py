"""A cost with more digits than a float holds survives file read-merge-write and every
database load and merge, on both backends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from lse.archive.reader import iter_stored_runs
from lse.archive.writer import write_runs
from lse.records import merge_run
from lse.records.jsonl import loads
from lse.store.engine import get_engine
from lse.store.loader import load_day
from lse.store.models.archive import RunRow
from lse.store.stored_form import decode_stored

DAY = date(2026, 11, 20)
COST = Decimal("0.000123456789012345678901")


def run(records):
    return {
        "id": "r1",
        "trace_id": "r1",
        "parent_run_id": None,
        "start_time": "2026-11-20T10:00:00",
        "total_cost": COST,
        "feedback_stats": {"k": {"n": len(records)}},
        "feedback_records": records,
        "feedback_fetch_status": "fetched",
    }


def fb(fid, modified):
    return {
        "id": fid,
        "run_id": "r1",
        "key": "k",
        "value": {"verdict": "PASS"},
        "created_at": "2026-11-20T10:00:00",
        "modified_at": modified,
    }


def stored_cost(settings):
    with get_engine(settings).connect() as conn:
        data, encoding = conn.execute(select(RunRow.data, RunRow.data_encoding)).one()
    doc = decode_stored(data) if encoding else data
    return doc["total_cost"]


def test_digits_survive_reads_merges_and_loads(db_settings):
    write_runs(db_settings, "p", DAY, [run([fb("a", "2026-11-20T10:00:00")])])
    load_day(db_settings, "p", DAY)
    assert Decimal(str(stored_cost(db_settings))) == COST

    # a re-fetch reads the file back, merges and rewrites it ...
    stored = next(iter_stored_runs(db_settings, "p", DAY))
    assert stored["total_cost"] == COST
    merged = merge_run(stored, run([fb("a", "2026-11-20T10:00:00"), fb("b", "2026-11-21T00:00:00")]))
    write_runs(db_settings, "p", DAY, [merged])
    assert next(iter_stored_runs(db_settings, "p", DAY))["total_cost"] == COST

    # ... and the second load merges with the stored row (the update path)
    report = load_day(db_settings, "p", DAY)
    assert report.runs_updated == 1
    assert Decimal(str(stored_cost(db_settings))) == COST


def test_loads_keeps_plain_floats_plain():
    doc = loads('{"a": 0.25, "b": 1e-7, "c": 0.000123456789012345678901, "d": 3}')
    assert doc == {"a": 0.25, "b": 1e-7, "c": COST, "d": 3}
    assert isinstance(doc["a"], float) and isinstance(doc["c"], Decimal)
