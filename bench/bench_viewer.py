"""Benchmark the archive viewer's page queries on a million runs.

    .venv/bin/python bench/bench_viewer.py                    # 1,000,000 runs on PostgreSQL
    .venv/bin/python bench/bench_viewer.py --runs 100000      # a quicker look
    .venv/bin/python bench/bench_viewer.py --backend sqlite --runs 200000

A throwaway database (PostgreSQL: created on LSE_BENCH_PG_ADMIN, default
postgresql://postgres@127.0.0.1:5432/test, dropped after; SQLite: a temp file) gets the
real schema from the migrations, then synthetic archive rows: one project of `--runs`
runs over `--days` days (traces of a root and 0-6 children, a verdict with a six-criteria
rationale on 30% of the roots), a second project a tenth of its size, and one load
record per day. The rows go in by COPY with the secondary indexes dropped and rebuilt
after (bench_load.py measures the real loader; this measures reading).

Each page's queries run `--repeats` times; the median is printed beside two references
measured in the same run on the same database:
- the floor: one primary-key lookup of a run (a round trip and an index probe);
- the baseline: one scan of the range's runs without an index to help (what a page
  would cost if it read the runs themselves, e.g. counting a field of `data`).
The archive summary is measured cold (no day figures cached) and warm (cached until a
day is loaded again). With --explain the plans of the filtered run lists are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from lse.settings import Settings
from lse.store import archive_views as av
from lse.store.engine import dispose_engines, get_engine
from lse.web.views.archive import DayFiguresCache, archive_summary

PG_ADMIN = os.environ.get("LSE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PROJECT, OTHER = "bench-main", "bench-other"
CRITERIA = ("criteria_a", "criteria_b", "criteria_c", "criteria_d", "decision_factor_1", "decision_factor_2")
FIRST_DAY = date(2026, 10, 1)


# --- data ------------------------------------------------------------------------------


def _rows(project: str, runs: int, days: int, rng: random.Random) -> Iterator[tuple[list[Any], list[list[Any]]]]:
    """(run row, feedback rows) per run, in start order, spread evenly over the days."""
    per_day = max(runs // days, 1)
    made = 0
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        quota = per_day if d < days - 1 else runs - made
        done = 0
        while done < quota:
            trace = str(uuid.UUID(int=rng.getrandbits(128)))
            start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=rng.randrange(86_000))
            size = min(1 + rng.randint(0, 6), quota - done)
            for i in range(size):
                run_id = trace if i == 0 else str(uuid.UUID(int=rng.getrandbits(128)))
                feedback: list[list[Any]] = []
                reviewed = i == 0 and rng.random() < 0.3
                if reviewed:
                    passed = rng.random() < 0.7
                    verdict = "PASS" if passed else "FAIL"
                    value = {
                        "verdict": verdict,
                        "rationale": {c: rng.random() < (0.8 if passed else 0.35) for c in CRITERIA},
                    }
                    at = start + timedelta(minutes=rng.randint(1, 600))
                    feedback.append(
                        [
                            str(uuid.UUID(int=rng.getrandbits(128))),
                            run_id,
                            trace,
                            project,
                            day,
                            "final_verdict",
                            1.0 if passed else 0.0,
                            json.dumps(value),
                            f"Human verdict: {verdict}",
                            None,
                            json.dumps({"type": "app", "user_name": "reviewer"}),
                            at,
                            at,
                            None,
                        ]
                    )
                data = {
                    "id": run_id,
                    "name": "support_agent" if i == 0 else rng.choice(("retrieve", "llm", "tool")),
                    "run_type": "chain" if i == 0 else "llm",
                    "status": "success",
                    "trace_id": trace,
                    "parent_run_id": None if i == 0 else trace,
                    "inputs": {"question": f"question {made + done + i}"},
                    "outputs": {"answer": f"answer {made + done + i}"},
                    "total_tokens": rng.randint(50, 4000),
                    "feedback_stats": {"final_verdict": {"n": 1}} if reviewed else {},
                    "feedback_records": [],
                }
                row = [
                    run_id,
                    trace,
                    None if i == 0 else trace,
                    project,
                    day,
                    start + timedelta(seconds=i),
                    "fetched" if reviewed else "none",
                    json.dumps(data),
                    None,
                    start,
                    start,
                ]
                yield row, feedback
            done += size
        made += quota


RUN_COLUMNS = (
    "run_id, trace_id, parent_run_id, project, run_date, start_time, feedback_status, data, data_encoding, "
    "loaded_at, updated_at"
)
FEEDBACK_COLUMNS = (
    "feedback_id, run_id, trace_id, project, run_date, key, score, value, comment, correction, source, "
    "created_at, modified_at, encoding"
)


def _load_postgres(engine: Engine, batches: list[tuple[str, int, int]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('runs', 'feedback') "
            "AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        rng = random.Random(7)
        for project, runs, days in batches:
            pending: list[list[Any]] = []
            with cur.copy(f"COPY runs ({RUN_COLUMNS}) FROM STDIN") as runs_copy:
                for row, feedback in _rows(project, runs, days, rng):
                    runs_copy.write_row(row)
                    pending += feedback
            with cur.copy(f"COPY feedback ({FEEDBACK_COLUMNS}) FROM STDIN") as fb_copy:
                for row in pending:
                    fb_copy.write_row(row)
            _load_records(cur, project, days, "%s")
        raw.commit()
        print(f"  rebuilding {len(indexes)} indexes ...", flush=True)
        for _name, ddl in indexes:
            cur.execute(ddl)
        raw.commit()
        driver = raw.driver_connection
        assert driver is not None
        driver.autocommit = True  # VACUUM runs outside a transaction
        for table in ("runs", "feedback", "fetch_records"):
            driver.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.close()


def _load_sqlite(engine: Engine, batches: list[tuple[str, int, int]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        rng = random.Random(7)
        for project, runs, days in batches:
            run_rows: list[list[Any]] = []
            fb_rows: list[list[Any]] = []
            for row, feedback in _rows(project, runs, days, rng):
                run_rows.append([v.isoformat() if isinstance(v, (date, datetime)) else v for v in row])
                fb_rows += [[v.isoformat() if isinstance(v, (date, datetime)) else v for v in f] for f in feedback]
                if len(run_rows) >= 50_000:
                    cur.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({','.join('?' * 11)})", run_rows)
                    run_rows = []
            cur.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({','.join('?' * 11)})", run_rows)
            cur.executemany(f"INSERT INTO feedback ({FEEDBACK_COLUMNS}) VALUES ({','.join('?' * 14)})", fb_rows)
            _load_records(cur, project, days, "?")
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _load_records(cur: Any, project: str, days: int, mark: str) -> None:
    now = datetime.now(UTC)
    for d in range(days):
        cur.execute(
            "INSERT INTO fetch_records (kind, project, day, status, counts, requests, retries, rate_limited, errors, "
            f"duration_s, tool_version, started_at, finished_at, details) VALUES ({', '.join([mark] * 14)})",
            [
                "load",
                project,
                (FIRST_DAY + timedelta(days=d)).isoformat(),
                "complete",
                "{}",
                0,
                0,
                0,
                0,
                0.0,
                "bench",
                now.isoformat(),
                now.isoformat(),
                "{}",
            ],
        )


# --- measuring -------------------------------------------------------------------------


def _median_ms(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), times


def measure(engine: Engine, days: int, repeats: int, explain: bool) -> None:
    start, end = FIRST_DAY, FIRST_DAY + timedelta(days=days - 1)
    with engine.connect() as conn:
        some_id = conn.execute(text("SELECT max(id) / 2 FROM runs")).scalar_one()

    def floor() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT run_id FROM runs WHERE id = :i"), {"i": some_id}).all()

    baseline_sql = (
        "SELECT count(*) FROM runs WHERE project = :p AND run_date BETWEEN :s AND :e AND data ->> 'name' = 'x'"
        if engine.dialect.name == "postgresql"
        else "SELECT count(*) FROM runs WHERE project = :p AND run_date BETWEEN :s AND :e "
        "AND json_extract(data, '$.name') = 'x'"
    )

    def baseline() -> None:
        with engine.connect() as conn:
            conn.execute(text(baseline_sql), {"p": PROJECT, "s": start, "e": end}).all()

    floor_ms, _ = _median_ms(floor, max(repeats, 5))
    base_ms, _ = _median_ms(baseline, max(1, repeats // 2))
    page1 = av.runs_page(engine, PROJECT, start, end)
    deep = page1
    for _ in range(20):
        if deep.next_cursor is None:
            break
        deep = av.runs_page(engine, PROJECT, start, end, cursor=deep.next_cursor)
    some_run = page1.runs[0]

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("projects (loose index scan)", lambda: av.archive_projects(engine)),
        (f"archived days, {days} days", lambda: av.archived_days(engine, PROJECT, start, end)),
        (
            "summary, cold (figures of every day)",
            lambda: archive_summary(engine, PROJECT, start, end, cache=DayFiguresCache()),
        ),
        ("summary, warm (figures cached)", None),  # filled below with one shared cache
        ("runs page 1", lambda: av.runs_page(engine, PROJECT, start, end)),
        ("runs page 21 (keyset)", lambda: av.runs_page(engine, PROJECT, start, end, cursor=deep.next_cursor)),
        ("runs, verdict FAIL", lambda: av.runs_page(engine, PROJECT, start, end, verdict="FAIL")),
        (
            "runs, FAIL and criteria_b true",
            lambda: av.runs_page(engine, PROJECT, start, end, verdict="FAIL", criterion="criteria_b"),
        ),
        ("run page (run, feedback, trace)", lambda: av.trace_runs(engine, PROJECT, some_run.trace_id or "")),
    ]
    warm = DayFiguresCache()
    archive_summary(engine, PROJECT, start, end, cache=warm)
    cases[3] = ("summary, warm (figures cached)", lambda: archive_summary(engine, PROJECT, start, end, cache=warm))

    print(f"\nfloor (primary-key lookup of one run): {floor_ms:8.2f} ms")
    print(f"baseline (one unindexed scan of the range's runs): {base_ms:8.1f} ms\n")
    print(f"{'page query':40} {'median ms':>10} {'x floor':>9} {'/ baseline':>11}   all runs (ms)")
    for name, fn in cases:
        assert fn is not None
        med, all_ms = _median_ms(fn, repeats)
        runs_ms = " ".join(f"{t:.1f}" for t in all_ms)
        print(f"{name:40} {med:10.1f} {med / floor_ms:9.1f} {med / base_ms:11.3f}   {runs_ms}")
    if explain and engine.dialect.name == "postgresql":
        for verdict, criterion in (("FAIL", None), ("FAIL", "criteria_b")):
            stmt = av.runs_page_statement("postgresql", PROJECT, start, end, verdict=verdict, criterion=criterion)
            compiled = stmt.compile(dialect=engine.dialect)
            params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in compiled.params.items()}
            with engine.connect() as conn:
                plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled.string}", params)]
            print(f"\nplan of runs, verdict {verdict}{', ' + criterion if criterion else ''}:")
            print("\n".join("  " + line for line in plan))


@contextmanager
def database(backend: str) -> Iterator[Settings]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield Settings(data_dir=Path(tmp))
            dispose_engines()
        return
    import psycopg

    name = f"lse_bench_viewer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield Settings(data_dir=Path(tmp), database_url=f"{base}/{name}")
    finally:
        dispose_engines()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--explain", action="store_true", help="print the plans of the filtered run lists")
    args = parser.parse_args()
    with database(args.backend) as settings:
        engine = get_engine(settings)
        batches = [(PROJECT, args.runs, args.days), (OTHER, max(args.runs // 10, 1), args.days)]
        t0 = time.perf_counter()
        print(f"{args.backend}: loading {args.runs:,} + {args.runs // 10:,} runs over {args.days} days ...", flush=True)
        (_load_postgres if args.backend == "postgresql" else _load_sqlite)(engine, batches)
        with engine.connect() as conn:
            n_runs = conn.execute(text("SELECT count(*) FROM runs")).scalar_one()
            n_fb = conn.execute(text("SELECT count(*) FROM feedback")).scalar_one()
        print(f"  {n_runs:,} runs, {n_fb:,} feedback rows in {time.perf_counter() - t0:.0f} s")
        measure(engine, args.days, args.repeats, args.explain)


if __name__ == "__main__":
    main()
