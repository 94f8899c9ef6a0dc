"""Loads written on several connections at once (`LSE_LOAD_WRITERS`): the same stored
state as one connection, and loaders of one project never merge a run at the same time."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, select, text

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, with_feedback, write_day
from lse.store.loader import load_day
from lse.store.models.archive import FeedbackRow, RunRow
from lse.store.upsert import SHARDS

RUN_COLUMNS = (
    "run_id",
    "trace_id",
    "parent_run_id",
    "project",
    "run_date",
    "start_time",
    "feedback_status",
    "data",
    "data_encoding",
)
FEEDBACK_COLUMNS = (
    "feedback_id",
    "run_id",
    "trace_id",
    "project",
    "run_date",
    "key",
    "score",
    "value",
    "comment",
    "correction",
    "source",
    "created_at",
    "modified_at",
    "encoding",
)


def _day_with_repeats() -> list[dict]:
    """60 runs, then later lines of some of them: more feedback, a newer record, a
    re-fetch whose feedback failed, and a record made older — spread over many batches."""
    runs = []
    for i in range(60):
        run = make_run(feedback=[])
        run["feedback_records"] = [make_feedback(run, verdict="FAIL" if i % 3 else "PASS")]
        runs.append(run)
    lines = list(runs)
    for run in runs[::7]:
        rec = run["feedback_records"][0]
        t = datetime.fromisoformat(rec["modified_at"])
        newer = dict(rec, value={"verdict": "PASS", "rationale": {}}, modified_at=(t + timedelta(hours=1)).isoformat())
        lines.append(with_feedback(run, [rec, make_feedback(run, key="helpfulness")]))
        lines.append(with_feedback(run, None))  # not fetched: erases nothing
        lines.append(with_feedback(run, [newer]))
        older = dict(
            newer, value={"verdict": "STALE", "rationale": {}}, modified_at=(t - timedelta(hours=1)).isoformat()
        )
        lines.append(with_feedback(run, [older]))  # older: loses
    return lines


def _stored(engine: Engine) -> tuple[dict, dict]:
    with engine.connect() as conn:
        runs = {r.run_id: tuple(getattr(r, c) for c in RUN_COLUMNS) for r in conn.execute(select(RunRow.__table__))}
        feedback = {
            r.feedback_id: tuple(getattr(r, c) for c in FEEDBACK_COLUMNS)
            for r in conn.execute(select(FeedbackRow.__table__))
        }
    return runs, feedback


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM feedback"))
        conn.execute(text("DELETE FROM runs"))


def test_any_number_of_writers_stores_what_one_writer_does(db_settings, engine):
    lines = _day_with_repeats()
    write_day(db_settings, PROJECT, DAY, lines, raw_lines=["not json {"])
    results = {}
    for writers in (1, 3):
        _wipe(engine)
        settings = db_settings.model_copy(update={"load_writers": writers})
        report = load_day(settings, PROJECT, DAY, engine=engine, batch_size=5)
        # How a run's repeated lines count (updated or unchanged, feedback rows sent)
        # depends on which of them share a batch, as with any batch size; the rest of
        # the report may not differ.
        batch_dependent = {"duration_s", "runs_updated", "runs_unchanged", "feedback_rows"}
        results[writers] = (report.model_dump(exclude=batch_dependent), _stored(engine))

    one, three = results[1], results[3]
    assert three[0] == one[0]  # the same report: counts, statuses, the bad line's position
    assert three[1] == one[1]  # and the same rows, column by column
    runs, feedback = one[1]
    assert one[0]["runs_read"] == len(lines) + 1 and one[0]["bad_rows_count"] == 1
    assert len(runs) == 60 and len(feedback) == 60 + len(range(0, 60, 7))
    for run in lines[0:60:7]:  # the newer record won, the older one and "not fetched" did not erase it
        stored = runs[run["id"]][RUN_COLUMNS.index("data")]
        values = {r["key"]: r["value"]["verdict"] for r in stored["feedback_records"]}
        assert values == {"final_verdict": "PASS", "helpfulness": "PASS"}


def test_a_load_waits_while_another_holds_the_lock_of_its_runs(db_settings, engine, db_url):
    """A second loader of the project (here: a session holding every shard's load lock)
    makes the load wait before it reads or writes any run, so no two loaders ever merge
    the same run against what the other is about to change. The project's name is
    quoted into the lock names, whatever it holds."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE (one writer at a time)")
    from lse.store.upsert.postgres import load_lock_name

    project = "acme's; -- \\ prod"
    runs = [make_run(feedback=[]) for _ in range(20)]
    write_day(db_settings, project, DAY, runs)
    settings = db_settings.model_copy(update={"load_writers": 2})
    holder = psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    try:
        for shard in range(SHARDS):
            holder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (load_lock_name(project, shard),))
        done = threading.Event()
        loader = threading.Thread(target=lambda: (load_day(settings, project, DAY, engine=engine), done.set()))
        loader.start()
        time.sleep(1.0)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == 0
        assert not done.is_set()
        holder.execute("SELECT pg_advisory_unlock_all()")
        loader.join(timeout=30)
        assert done.is_set()
    finally:
        holder.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == 20


@pytest.mark.parametrize("isolation", ["repeatable read", "serializable"])
def test_a_stricter_default_isolation_turns_no_good_run_into_a_bad_row(db_settings, engine, db_url, isolation):
    """Load transactions run read committed whatever the database's default: under
    repeatable read or serializable their snapshot would predate the shard locks, and
    two loaders would collide on rows the other has just committed."""
    if engine.dialect.name != "postgresql":
        pytest.skip("isolation levels are PostgreSQL's here")
    from lse.store.engine import dispose_engines

    name = db_url.rsplit("/", 1)[1]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = '{isolation}'"))
    dispose_engines()  # new connections take the new default
    runs = []
    for _ in range(300):
        run = make_run(feedback=[])
        run["feedback_records"] = [make_feedback(run)]
        runs.append(run)
    write_day(db_settings, PROJECT, DAY, runs)
    settings = db_settings.model_copy(update={"load_writers": 3})
    reports = []

    def load() -> None:
        reports.append(load_day(settings, PROJECT, DAY, batch_size=10))

    loaders = [threading.Thread(target=load) for _ in range(2)]
    for t in loaders:
        t.start()
    for t in loaders:
        t.join(timeout=60)

    assert len(reports) == 2 and [r.bad_rows for r in reports] == [[], []]
    assert sum(r.runs_inserted for r in reports) == 300
    runs_stored, feedback_stored = _stored(engine)
    assert len(runs_stored) == 300 and len(feedback_stored) == 300


def test_a_connection_lost_mid_load_is_one_line_and_exit_1(db_settings, engine, db_url):
    """The server ending a load's connection (restart, failover, an administrator) is an
    error about the database, not a bad row: the load stops with one line, and the dead
    connection is discarded rather than reset (which would print a pool traceback)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("terminating a backend is PostgreSQL's")
    from helpers.cli import lse_env, start_lse
    from lse.store.upsert.postgres import load_lock_name

    write_day(db_settings, PROJECT, DAY, [make_run(feedback=[]) for _ in range(50)])
    conninfo = db_url.replace("postgresql+psycopg://", "postgresql://")
    holder = psycopg.connect(conninfo, autocommit=True)
    try:
        for shard in range(SHARDS):  # the load will wait on these, mid-transaction
            holder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (load_lock_name(PROJECT, shard),))
        proc = start_lse(
            "archive",
            "to-db",
            "--project",
            PROJECT,
            "--date",
            str(DAY),
            env=lse_env(LSE_DATA_DIR=str(db_settings.data_dir), LSE_DATABASE_URL=db_url),
        )
        waiting: list = []
        for _ in range(200):
            waiting = holder.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchall()
            if waiting:
                break
            time.sleep(0.05)
        assert waiting, "the load never reached its locks"
        holder.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        holder.execute("SELECT pg_advisory_unlock_all()")
        _, err = proc.communicate(timeout=60)
    finally:
        holder.close()
    assert proc.returncode == 1, err
    assert err.strip().splitlines() == [err.strip()] and err.startswith("error: database error while loading runs")
