"""Benchmark `lse.store.loader.load_day`: rows/second and peak memory on PostgreSQL and
SQLite, against a bare COPY of the same JSON into a plain PostgreSQL table.

    .venv/bin/python bench/bench_load.py                      # 100,000 runs, 3 repeats
    .venv/bin/python bench/bench_load.py --runs 5000 --repeats 1    # quick check

The archive is one project-day of sandbox runs (the worst case for memory: the loader
must stream it). Every load runs in a fresh process on a fresh database (PostgreSQL:
a throwaway database, dropped after; LSE_BENCH_PG_ADMIN, default
postgresql://postgres@127.0.0.1:5432/test), so no load inherits another's memory or
caches. Peak memory is that process's RSS, sampled every 20 ms during the load, above
its RSS just before. Memory is measured at a tenth of the day and at the whole day:
flat means the two are alike.

Two kinds of reference, timed in the same database:

- the floor of lse's own schema: the same rows the load writes (encoded by the
  loader's own code beforehand, untimed) COPY'd straight into `runs` and `feedback`
  with all their indexes, GIN included, one transaction per stream, on as many
  connections as the load uses, with the load's session settings, in a fresh process.
  It is what no loader of this schema can beat; the load's goal is >= 0.8 of it, and
  the gap is what the load spends reading, merging and batching;
- a bare COPY of the same runs.jsonl into `bench_ref(data jsonb)` (no index, one
  COPY, one transaction), timed from this process: once with the server's default
  TOAST compression (pglz) and once with LZ4, the compression `runs.data` uses
  (migration 0004).
Every timed section (load, floor, bare COPY) starts right after a CHECKPOINT, so none
of them meets a checkpoint the WAL of an earlier one triggered (a load writes ~370 MB
of WAL; where a checkpoint fell used to move a pair's ratio by a tenth). Each figure
is the median of the repeats (all of them are printed). Beside the first
PostgreSQL load the bench prints what it wrote (WAL, table and index sizes).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self

import psycopg

from lse.archive.layout import runs_path
from lse.langsmith.fetch_plan import stored_run
from lse.records.jsonl import dumps_line
from lse.sandbox.langsmith.spec import SandboxSpec
from lse.sandbox.langsmith.wire import dumps
from lse.sandbox.langsmith.world import World
from lse.settings import Settings

PG_ADMIN = os.environ.get("LSE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PROJECT = "bench"
DAY = date(2025, 9, 6)
TENTH_DAY = date(2025, 9, 7)  # the first tenth of DAY's lines, for the memory comparison


def generate(data_dir: Path, runs: int, seed: int = 7) -> Path:
    """Write `runs` sandbox runs to one archived project-day, as `lse archive fetch` would.

    The LangSmith sandbox's own generator makes the traces (a root and 0-6 children,
    the API's full run shape) with feedback on every trace: a verdict with its
    rationale on the root, sometimes a step verdict on a child. Each run goes through
    the fetcher's `stored_run`, so the lines are exactly what the archive holds.
    """
    settings = Settings(data_dir=data_dir)
    traces = runs // 3 + 1  # 4 runs per trace on average: enough traces, cut at `runs`
    world = World.from_specs(
        [
            SandboxSpec(
                project=PROJECT,
                days=[DAY],
                traces_per_day=traces,
                children_per_trace=(0, 6),
                feedback_trace_share=1.0,
                seed=seed,
                hard_cases=False,
            )
        ]
    )
    path = runs_path(settings, PROJECT, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        for run in world.runs_for_day(PROJECT, DAY)[:runs]:
            wire = json.loads(dumps(run))  # as the API serves it
            records = {wire["id"]: [json.loads(dumps(r)) for r in world.feedback_for_run(wire["id"])]}
            fh.write(dumps_line(stored_run(wire, records, {})) + "\n")
            written += 1
    if written != runs:
        raise SystemExit(f"the sandbox generated {written} runs, fewer than {runs}")
    tenth = runs_path(settings, PROJECT, TENTH_DAY)
    tenth.parent.mkdir(parents=True, exist_ok=True)
    with path.open("rb") as src, tenth.open("wb") as dst:
        for _, line in zip(range(max(1, runs // 10)), src, strict=False):
            dst.write(line)
    return path


# --- one load, in a fresh process ------------------------------------------------------


class PeakRss:
    """Samples this process's RSS in a thread; `.peak_mb` above the RSS at start."""

    def __enter__(self) -> Self:
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


def load_once(data_dir: Path, database_url: str, day: date) -> dict[str, Any]:
    """Load one day (in a child process) and return its figures."""
    from lse.store.engine import get_engine
    from lse.store.loader import load_day

    settings = Settings(data_dir=data_dir, database_url=database_url)
    get_engine(settings)  # migrations are not part of the load
    with PeakRss() as mem:
        t = time.perf_counter()
        report = load_day(settings, PROJECT, day)
        elapsed = time.perf_counter() - t
    if report.bad_rows_count or report.runs_inserted != report.runs_read:
        raise SystemExit(f"the load did not insert every run: {report.model_dump_json()}")
    return {
        "runs": report.runs_read,
        "feedback_rows": report.feedback_rows,
        "seconds": elapsed,
        "peak_rss_mb": mem.peak_mb,
        "writers": settings.load_writers,
    }


def floor_once(data_dir: Path, database_url: str, day: date) -> dict[str, Any]:
    """COPY the day's rows into the migrated schema (in a child process): the rows are
    encoded beforehand by the loader's own `prepare`, split over the load's writers by
    shard as the load splits them, and each writer COPYs its share in one transaction
    through the load's own writer (its locks and session settings), then the closing
    fetch record commits synchronously, as the load's does."""
    from lse.archive.reader import iter_lines
    from lse.store import fetch_records
    from lse.store.batch_merge import prepare
    from lse.store.engine import get_engine
    from lse.store.upsert import shard_of, writer_for

    settings = Settings(data_dir=data_dir, database_url=database_url)
    engine = get_engine(settings)  # migrations are not part of the floor
    prepared, bad = prepare(list(iter_lines(settings, PROJECT, day)), PROJECT, day)
    if bad:
        raise SystemExit(f"{len(bad)} lines could not be encoded")
    writer = writer_for(engine, settings.load_writers)
    lanes: list[list[Any]] = [[] for _ in range(writer.writers)]
    for p in prepared:
        lanes[shard_of(p.run_id) % writer.writers].append(p)

    def copy(lane: list[Any]) -> int:
        with writer.transaction(PROJECT, {shard_of(p.run_id) for p in lane}) as tx:
            tx.upsert_runs([p.row for p in lane])
            return tx.upsert_feedback([f for p in lane for f in p.feedback], all_new=True)

    t = time.perf_counter()
    with ThreadPoolExecutor(len(lanes)) as pool:
        feedback = sum(pool.map(copy, lanes))
    fetch_records.record(
        engine,
        fetch_records.FetchRecord(
            kind="load", project=PROJECT, day=day, status="complete", started_at=datetime.now(UTC)
        ),
    )
    return {"runs": len(prepared), "feedback_rows": feedback, "seconds": time.perf_counter() - t}


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# --- PostgreSQL: databases, the reference, what was written ------------------------------


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"lse_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlalchemy_url(conninfo: str) -> str:
    return conninfo.replace("postgresql://", "postgresql+psycopg://", 1)


def bare_copy(conninfo: str, path: Path, runs: int, table: str, compression: str | None) -> float:
    """Seconds for one COPY of runs.jsonl into `table (data jsonb)`, committed."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(f"CREATE TABLE {table} (data jsonb)")
        if compression:
            conn.execute(f"ALTER TABLE {table} ALTER COLUMN data SET COMPRESSION {compression}")
        conn.commit()
        t = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY {table} (data) FROM STDIN") as copy, path.open("rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block.replace(b"\\", b"\\\\"))  # COPY text format escapes backslashes
        conn.commit()
        elapsed = time.perf_counter() - t
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if count != runs:
        raise SystemExit(f"bare COPY stored {count} rows, not {runs}")
    return elapsed


def gin_builds(conninfo: str, table: str) -> dict[str, float]:
    """Why runs.data's GIN covers the run's attributes (migration 0003): each GIN built
    once over the reference table (a bulk build, cheaper than keeping it up to date
    row by row)."""
    out = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        for label, expr in (("the whole document", "data"), ("lse_run_attributes(data)", "lse_run_attributes(data)")):
            t = time.perf_counter()
            conn.execute(f"CREATE INDEX ON {table} USING gin (({expr}) jsonb_path_ops)")
            out[label] = time.perf_counter() - t
    return out


def settle() -> None:
    """CHECKPOINT (as LSE_BENCH_PG_ADMIN), so the timed section that follows starts with
    no WAL pending a checkpoint: the load and its floor each write less WAL than
    triggers one, so neither is timed across a checkpoint another section caused."""
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege as exc:
        if not _unsettled:
            print(f"  note: no CHECKPOINT before the timed sections ({exc}): pairs vary more")
        _unsettled.append(exc)


_unsettled: list[Exception] = []


def wal_position(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def wal_since(conninfo: str, lsn: str) -> float:
    """MB of WAL written since `lsn` (server-wide: run nothing else meanwhile)."""
    with psycopg.connect(conninfo) as conn:
        return (
            float(conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (lsn,)).fetchone()[0])
            / 2**20
        )


def sizes(conninfo: str, tables: tuple[str, ...]) -> str:
    """MB of each table (heap + TOAST) and of each of its indexes, as one line."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_table_size(c.oid), coalesce(array_agg(i.relname ORDER BY i.relname)"
            " FILTER (WHERE i.relname IS NOT NULL), '{}'), coalesce(array_agg(pg_relation_size(i.oid)"
            " ORDER BY i.relname) FILTER (WHERE i.relname IS NOT NULL), '{}')"
            " FROM pg_class c LEFT JOIN pg_index x ON x.indrelid = c.oid LEFT JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE c.relname = ANY(%s) GROUP BY c.relname, c.oid ORDER BY c.relname",
            (list(tables),),
        ).fetchall()
    parts = []
    for table, size, names, index_sizes in rows:
        idx = ", ".join(f"{n} {b / 2**20:.0f}" for n, b in zip(names, index_sizes, strict=False)) or "no index"
        parts.append(f"{table} {size / 2**20:.0f} MB [{idx}]")
    return "; ".join(parts)


# --- the run -----------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _row(label: str, runs: int, seconds: list[float], extra: str = "") -> None:
    rates = ", ".join(f"{runs / s:,.0f}" for s in seconds)
    print(f"  {label:<34} {runs / _median(seconds):>9,.0f} runs/s  (median of {rates}){extra}")


def _floor(data_dir: Path) -> float:
    with fresh_database() as conninfo:
        settle()
        return in_child(floor_once, data_dir, _sqlalchemy_url(conninfo), DAY)["seconds"]


def bench_postgresql(data_dir: Path, path: Path, runs: int, repeats: int) -> dict[str, Any]:
    loads, copies, copies_lz4, floors = [], [], [], []
    gin: dict[str, float] = {}
    for i in range(repeats):
        # The floor runs right beside its load, before it on odd repeats and after it on
        # even ones (never just before the first load: its WAL figures stay its own), so
        # a machine whose speed drifts skews each pair's ratio as little as it can.
        if i % 2:
            floors.append(_floor(data_dir))
        with fresh_database() as conninfo:
            settle()
            lsn = wal_position(conninfo)
            loads.append(in_child(load_once, data_dir, _sqlalchemy_url(conninfo), DAY))
            if i == 0:
                wal = wal_since(conninfo, lsn)
                print(f"  first load wrote WAL {wal:.0f} MB; {sizes(conninfo, ('runs', 'feedback'))}")
            if not i % 2:
                floors.append(_floor(data_dir))
            settle()
            lsn = wal_position(conninfo)
            copies.append(bare_copy(conninfo, path, runs, "bench_ref", None))
            if i == 0:
                print(f"  bare COPY wrote WAL {wal_since(conninfo, lsn):.0f} MB; {sizes(conninfo, ('bench_ref',))}")
            settle()
            copies_lz4.append(bare_copy(conninfo, path, runs, "bench_ref_lz4", "lz4"))
            if i == 0:
                print(f"  bare COPY with LZ4: {sizes(conninfo, ('bench_ref_lz4',))}")
            if i == repeats - 1:
                gin = gin_builds(conninfo, "bench_ref_lz4")
    with fresh_database() as conninfo:
        tenth = in_child(load_once, data_dir, _sqlalchemy_url(conninfo), TENTH_DAY)
    return {
        "load_s": [r["seconds"] for r in loads],
        "schema_floor_s": floors,
        "bare_copy_s": copies,
        "bare_copy_lz4_s": copies_lz4,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in loads),
        "tenth_peak_rss_mb": tenth["peak_rss_mb"],
        "tenth_runs": tenth["runs"],
        "feedback_rows": loads[0]["feedback_rows"],
        "writers": loads[0]["writers"],
        "gin_build_s": gin,
    }


def bench_sqlite(tmp: Path, data_dir: Path, repeats: int) -> dict[str, Any]:
    loads = [in_child(load_once, data_dir, f"sqlite:///{tmp / f'bench-{i}.db'}", DAY) for i in range(repeats)]
    tenth = in_child(load_once, data_dir, f"sqlite:///{tmp / 'bench-tenth.db'}", TENTH_DAY)
    return {
        "load_s": [r["seconds"] for r in loads],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in loads),
        "tenth_peak_rss_mb": tenth["peak_rss_mb"],
        "tenth_runs": tenth["runs"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true", help="Also print the figures as one JSON line.")
    args = parser.parse_args()
    runs = args.runs

    with tempfile.TemporaryDirectory(prefix="lse-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        t = time.perf_counter()
        # In a child process, like every load: the sandbox world is large.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            path = pool.submit(generate, data_dir, runs).result()
        print(
            f"generated {runs:,} sandbox runs, {path.stat().st_size / 2**20:.0f} MB of runs.jsonl, "
            f"in {time.perf_counter() - t:.0f} s; {os.cpu_count()} CPUs shared by the loader and the server"
        )

        print("PostgreSQL")
        pg = bench_postgresql(data_dir, path, runs, args.repeats)
        _row(f"load_day ({pg['writers']} writers)", runs, pg["load_s"], f"  + {pg['feedback_rows']:,} feedback rows")
        _row(f"COPY into the schema ({pg['writers']} streams)", runs, pg["schema_floor_s"])
        _row("bare COPY (default compression)", runs, pg["bare_copy_s"])
        _row("bare COPY (LZ4, like runs.data)", runs, pg["bare_copy_lz4_s"])
        copy_s = _median(pg["bare_copy_s"])
        for label, built in pg["gin_build_s"].items():
            print(f"  a GIN on {label}, built once after the COPY: {built:.2f} s = {built / copy_s:.2f}x the bare COPY")
        print(
            f"  peak memory: +{pg['tenth_peak_rss_mb']:.0f} MB for {pg['tenth_runs']:,} runs, "
            f"+{pg['peak_rss_mb']:.0f} MB for {runs:,}"
        )
        results: dict[str, Any] = {"runs": runs, "postgresql": pg}

        if not args.skip_sqlite:
            print("SQLite")
            lite = bench_sqlite(tmp, data_dir, args.repeats)
            _row("load_day", runs, lite["load_s"])
            print(
                f"  peak memory: +{lite['tenth_peak_rss_mb']:.0f} MB for {lite['tenth_runs']:,} runs, "
                f"+{lite['peak_rss_mb']:.0f} MB for {runs:,}"
            )
            results["sqlite"] = lite

        load_s = _median(pg["load_s"])
        paired = [f / s for f, s in zip(pg["schema_floor_s"], pg["load_s"], strict=True)]
        floor = _median(paired)
        ratio = copy_s / load_s
        ratio_lz4 = _median(pg["bare_copy_lz4_s"]) / load_s
        results.update(pg_ratio_to_schema_floor=floor, pg_ratio_to_bare_copy=ratio, pg_ratio_to_bare_copy_lz4=ratio_lz4)
        print(
            f"PostgreSQL load / COPY into the schema = {floor:.2f} (goal >= 0.8; median of the pairs "
            f"{', '.join(f'{r:.2f}' for r in paired)}, each measured side by side)"
        )
        print(f"PostgreSQL load / bare COPY = {ratio:.2f}; / bare COPY with LZ4 = {ratio_lz4:.2f}")
        print(
            "  The schema's floor writes the load's own rows into the same tables and indexes,\n"
            "  on as many connections, without reading, merging or batching: the load's extra\n"
            "  work is parsing and encoding every run in Python (overlapped with the writes),\n"
            "  one SELECT of stored rows and one commit per batch. The bare COPY stores each\n"
            "  line once as jsonb with no index, on one stream."
        )
        if args.json:
            print(json.dumps(results))


if __name__ == "__main__":
    main()
