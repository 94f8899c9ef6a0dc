"""Benchmark `lse.store.loader.load_day`: rows/second and peak memory on PostgreSQL and
SQLite, against a bare COPY of the same JSON into a plain PostgreSQL table.

    .venv/bin/python bench/bench_load.py --runs 100000
    .venv/bin/python bench/bench_load.py --runs 2000          # quick check

The archive is generated as one project-day (the worst case for memory: the loader
must stream it). PostgreSQL gets a fresh throwaway database, dropped at the end
(LSE_BENCH_PG_ADMIN, default postgresql://postgres@127.0.0.1:5432/test). Peak memory
is the process RSS sampled every 20 ms during each load, minus the RSS before it.
Beside each PostgreSQL figure the bench prints what was written: WAL, checkpoints, and
table and index sizes, so the ratio can be read against the work each side does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from lse.archive.layout import runs_path
from lse.settings import Settings
from lse.store.engine import dispose_engines, get_engine
from lse.store.loader import load_day

PG_ADMIN = os.environ.get("LSE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PROJECT = "bench"
DAY = date(2025, 9, 6)
WORDS = "the of and to in is that for it as was with be by on not he this are or his from at".split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def generate(settings: Settings, runs: int, seed: int = 7) -> Path:
    """Stream `runs` stored runs (traces of 5 runs, every run with native feedback) to runs.jsonl."""
    rng = random.Random(seed)
    path = runs_path(settings, PROJECT, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        trace_id = parent = None
        for i in range(runs):
            rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if i % 5 == 0:
                trace_id, parent = rid, None
            start = t0 + timedelta(seconds=i * 0.5)
            factors = {f"criteria_{c}": rng.random() < 0.3 for c in "abcd"}
            records = [
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "run_id": rid,
                    "trace_id": trace_id,
                    "key": "final_verdict" if k == 0 else "helpfulness",
                    "score": rng.choice([0.0, 1.0]),
                    "value": {"verdict": rng.choice(["PASS", "FAIL"]), "rationale": factors},
                    "comment": _text(rng, 8),
                    "correction": None,
                    "feedback_source": {"type": "api", "metadata": {}, "user_id": None},
                    "created_at": (start + timedelta(minutes=5)).isoformat(),
                    "modified_at": (start + timedelta(minutes=5)).isoformat(),
                }
                for k in range(1 if i % 5 else 2)
            ]
            run = {
                "id": rid,
                "name": "agent" if parent is None else "llm",
                "run_type": "chain" if parent is None else "llm",
                "trace_id": trace_id,
                "parent_run_id": parent,
                "start_time": start.isoformat(),
                "end_time": (start + timedelta(seconds=2)).isoformat(),
                "inputs": {"messages": [{"role": "user", "content": _text(rng, 60)}]},
                "outputs": {"generations": [{"text": _text(rng, 120)}]},
                "error": None,
                "extra": {"metadata": {"env": "bench", "ls_model_name": "gpt-4o-mini"}},
                "tags": ["bench"],
                "feedback_stats": {"final_verdict": {"n": 1, "avg": 1.0, "values": {}, "comments": []}},
                "session_id": "sess",
                "dotted_order": f"{start:%Y%m%dT%H%M%S%fZ}{rid}",
                "total_tokens": rng.randint(100, 4000),
                "feedback_records": records,
                "feedback_fetch_status": "fetched",
                "feedback_fetch_error": None,
            }
            if parent is None:
                parent = rid
            fh.write(json.dumps(run, ensure_ascii=True) + "\n")
    return path


class PeakRss:
    """Samples this process's RSS in a thread; `.peak_mb` above the RSS at start."""

    def __enter__(self) -> PeakRss:
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def peak_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def timed_load(settings: Settings, label: str, runs: int, pg_url: str | None = None) -> dict:
    get_engine(settings)  # migrations are not part of the load
    before = _wal(pg_url) if pg_url else None
    with PeakRss() as mem:
        t = time.perf_counter()
        report = load_day(settings, PROJECT, DAY)
        elapsed = time.perf_counter() - t
    assert report.runs_inserted == runs and report.bad_rows_count == 0, report
    out = {
        "label": label, "runs": runs, "feedback_rows": report.feedback_rows, "seconds": elapsed,
        "rows_per_s": runs / elapsed, "peak_rss_mb": mem.peak_mb,
    }
    print(
        f"{label:<28} {runs:>8} runs  {elapsed:7.2f} s  {out['rows_per_s']:>9.0f} runs/s  peak +{mem.peak_mb:6.1f} MB"
        f"  (+ {report.feedback_rows} feedback rows)"
    )
    if pg_url and before:
        out.update(_wal_delta(pg_url, before))
        out["relations"] = _sizes(pg_url, ("runs", "feedback"))
        _print_written(out)
    return out


def bare_copy(db_url: str, path: Path, runs: int) -> dict:
    """The physical reference: the same runs.jsonl COPY'd into `bench_ref(data jsonb)`
    (no index, one transaction), in the same database and server as the load."""
    conninfo = _conninfo(db_url)
    before = _wal(db_url)
    with psycopg.connect(conninfo) as conn:
        conn.execute("CREATE TABLE bench_ref (data jsonb)")
        conn.commit()
        t = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_ref (data) FROM STDIN") as copy, path.open("rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block.replace(b"\\", b"\\\\"))  # COPY text format escapes backslashes
        conn.commit()
        elapsed = time.perf_counter() - t
        count = conn.execute("SELECT count(*) FROM bench_ref").fetchone()[0]
    assert count == runs, count
    print(f"{'postgresql bare COPY':<28} {runs:>8} runs  {elapsed:7.2f} s  {runs / elapsed:>9.0f} runs/s")
    out = {"label": "bare_copy", "seconds": elapsed, "rows_per_s": runs / elapsed}
    out.update(_wal_delta(db_url, before))
    out["relations"] = _sizes(db_url, ("bench_ref",))
    _print_written(out)
    return out


def _conninfo(db_url: str) -> str:
    return db_url.replace("postgresql+psycopg://", "postgresql://")


def _wal(db_url: str) -> tuple[str, int]:
    with psycopg.connect(_conninfo(db_url)) as conn:
        lsn, checkpoints = conn.execute(
            "SELECT pg_current_wal_lsn()::text, checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
        ).fetchone()
    return lsn, checkpoints


def _wal_delta(db_url: str, before: tuple[str, int]) -> dict:
    """WAL written and checkpoints started since `before` (server-wide: run nothing else)."""
    with psycopg.connect(_conninfo(db_url)) as conn:
        wal, checkpoints = conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn),"
            " checkpoints_timed + checkpoints_req - %s FROM pg_stat_bgwriter",
            before,
        ).fetchone()
    return {"wal_mb": float(wal) / 2**20, "checkpoints": int(checkpoints)}


def _sizes(db_url: str, tables: tuple[str, ...]) -> dict:
    """MB of each table (heap + TOAST) and of each of its indexes."""
    with psycopg.connect(_conninfo(db_url)) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_table_size(c.oid), coalesce(array_agg(i.relname ORDER BY i.relname)"
            " FILTER (WHERE i.relname IS NOT NULL), '{}'), coalesce(array_agg(pg_relation_size(i.oid)"
            " ORDER BY i.relname) FILTER (WHERE i.relname IS NOT NULL), '{}')"
            " FROM pg_class c LEFT JOIN pg_index x ON x.indrelid = c.oid LEFT JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE c.relname = ANY(%s) GROUP BY c.relname, c.oid ORDER BY c.relname",
            (list(tables),),
        ).fetchall()
    return {
        table: {"table_mb": size / 2**20, "indexes_mb": {n: b / 2**20 for n, b in zip(names, sizes)}}
        for table, size, names, sizes in rows
    }


def _print_written(out: dict) -> None:
    parts = []
    for table, rel in out["relations"].items():
        idx = ", ".join(f"{n} {mb:.0f}" for n, mb in rel["indexes_mb"].items()) or "no index"
        parts.append(f"{table} {rel['table_mb']:.0f} MB [{idx}]")
    print(f"{'':<28} wrote WAL {out['wal_mb']:.0f} MB ({out['checkpoints']} checkpoints); " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true", help="Also print the figures as one JSON line.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lse-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        t = time.perf_counter()
        path = generate(Settings(data_dir=data_dir), args.runs)
        size_mb = path.stat().st_size / 2**20
        print(f"generated {args.runs} runs, {size_mb:.1f} MB in {time.perf_counter() - t:.1f} s ({path})")
        results = {}

        name = f"lse_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            pg_url = f"{base}/{name}"
            results["postgresql"] = timed_load(
                Settings(data_dir=data_dir, database_url=pg_url), "postgresql load_day", args.runs, pg_url
            )
            results["bare_copy"] = bare_copy(pg_url, path, args.runs)
            dispose_engines()
        finally:
            dispose_engines()
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        if not args.skip_sqlite:
            sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            results["sqlite"] = timed_load(Settings(data_dir=data_dir, database_url=sqlite_url), "sqlite load_day", args.runs)
            dispose_engines()

        ratio = results["postgresql"]["rows_per_s"] / results["bare_copy"]["rows_per_s"]
        results["pg_ratio_to_bare_copy"] = ratio
        print(f"postgresql load / bare COPY = {ratio:.2f} (goal >= 0.5)")
        print(
            "  like with like: both read the same runs.jsonl into the same server; the reference stores\n"
            "  each line once as jsonb with no index. The load also parses and merges every run, writes\n"
            "  the index columns, one feedback row per record and every index listed above (the GIN on\n"
            "  runs.data included), one transaction per batch: the WAL figures show the extra work."
        )
        if args.json:
            print(json.dumps(results))


if __name__ == "__main__":
    main()
