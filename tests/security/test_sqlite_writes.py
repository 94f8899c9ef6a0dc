"""One tenant's upload cannot block or break another's writes on SQLite: a dataset's
expanded size (rows x duplication_factor) is bounded, writes take the lock up front in
short transactions, and a busy database is waited for, never a 500.

Against a live `lse serve` on SQLite (WAL).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid

import httpx

from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDataset, EvaluationDatasetItem

BLOB = {"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini"}}}


def _csv(rows: int, tag: str = "") -> bytes:
    return ("question,answer\n" + "".join(f"q{tag}{i},a{i}\n" for i in range(rows))).encode()


def _upload(c: httpx.Client, name: str, data: bytes, factor: int = 1) -> httpx.Response:
    return c.post(
        "/api/v1/evaluations/datasets",
        files={"file": ("d.csv", data, "text/csv")},
        data={"dataset_name": name, "duplication_factor": str(factor)},
    )


def test_the_expanded_size_of_a_dataset_is_bounded(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        r = _upload(c, "too_big", _csv(10_001), factor=5)  # 50,005 items > 50,000
        assert r.status_code == 413, r.text
        assert r.json()["metadata"]["code"] == "dataset_too_large" and "LSE_DATASET_MAX_ITEMS" in r.json()["error"]
        assert c.get("/api/v1/evaluations/datasets").json()["data"] == []
        ok = _upload(c, "just_fits", _csv(10_000), factor=5)
        assert ok.status_code == 200 and ok.json()["data"]["total_items"] == 50_000, ok.text
    with unit_of_work(get_engine(live_lse.settings())) as s:
        ds = s.query(EvaluationDataset).filter_by(name="just_fits").one()
        assert s.query(EvaluationDatasetItem).filter_by(dataset_id=ds.id).count() == 50_000


def test_parallel_uploads_and_other_tenants_writes_all_succeed(live_lse):
    keys = [live_lse.new_key() for _ in range(3)]
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def upload(key: str, i: int) -> None:
        with live_lse.client(key, timeout=120) as c:
            start.wait()
            r = _upload(c, f"big{i}", _csv(9_000, tag=str(i)), factor=5)
        with lock:
            results.append(("upload", r.status_code, r.text[:200]))

    def configs(key: str) -> None:
        with live_lse.client(key, timeout=120) as c:
            start.wait()
            for _ in range(10):
                r = c.post("/api/v1/configs", json={"name": f"c{uuid.uuid4().hex[:6]}", "config_blob": BLOB})
                with lock:
                    results.append(("config", r.status_code, r.text[:200]))

    threads = [threading.Thread(target=upload, args=(keys[i % 2], i)) for i in range(4)]
    threads += [threading.Thread(target=configs, args=(keys[2],)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = [r for r in results if r[1] not in (200, 201)]
    assert not bad, bad
    assert sorted(kind for kind, _, _ in results).count("upload") == 4


def test_the_database_runs_in_wal_mode(live_lse):
    live_lse.new_key()  # the server has created its database
    conn = sqlite3.connect(live_lse.data_dir / "lse.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
