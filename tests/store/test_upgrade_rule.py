"""First use migrates only an EMPTY database. A database behind head is refused (with
the revisions and `lse db upgrade`), one at a revision this lse does not ship is refused
too, and `lse db current` / `lse db upgrade` work on all of them. Two processes first
using the same empty database both succeed. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, select, text

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from helpers.cli import lse_env, run_lse, start_lse
from lse.errors import StorageError
from lse.store.engine import dispose_engines, get_engine, make_engine
from lse.store.loader import load_day
from lse.store.migrate import current_revision, db_status, head_revision, upgrade_to_head
from lse.store.models.archive import FeedbackRow, RunRow

OLD = "0001_archive"
FUTURE = "9999_from_a_newer_lse"


@pytest.fixture
def old_database(db_settings, db_url):
    """A database at 0001 holding one archived day, as an older lse left it."""
    engine = make_engine(db_url)
    upgrade_to_head(engine, OLD)
    run = make_run(feedback=[])
    run["feedback_records"] = [make_feedback(run, verdict="FAIL", true_factors=("criteria_a",))]
    write_day(db_settings, PROJECT, DAY, [run, make_run(status=None, feedback=None)])
    assert load_day(db_settings, PROJECT, DAY, engine=engine).runs_inserted == 2
    yield engine
    engine.dispose()


def _rows(engine):
    with engine.connect() as conn:
        return (
            conn.execute(select(RunRow.__table__).order_by(RunRow.run_id)).all(),
            conn.execute(select(FeedbackRow.__table__).order_by(FeedbackRow.feedback_id)).all(),
        )


def _set_revision(engine, revision: str | None) -> None:
    with engine.begin() as conn:
        if revision is None:
            conn.execute(text("DROP TABLE alembic_version"))
        else:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def _one_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "unexpected" not in lines[0], proc.stderr
    return lines[0]


def test_first_use_refuses_a_database_behind_head_and_leaves_it_as_it_was(db_settings, old_database):
    before = _rows(old_database)
    for _ in range(2):  # a refusal is not remembered as a success
        with pytest.raises(StorageError) as caught:
            get_engine(db_settings)
        err = caught.value
        assert err.code == "database_needs_upgrade"
        assert f"at schema revision {OLD}" in str(err) and f"needs {head_revision()}" in str(err)
        assert "run `lse db upgrade`" in str(err)
    assert current_revision(old_database) == OLD
    assert _rows(old_database) == before

    assert get_engine(db_settings, upgrade=False) is not None  # callers that manage the schema themselves
    assert current_revision(old_database) == OLD

    upgrade_to_head(old_database)
    assert current_revision(get_engine(db_settings)) == head_revision()
    assert _rows(old_database) == before


def test_cli_on_a_database_behind_head(tmp_path, db_settings, db_url, old_database):
    env = lse_env(LSE_DATA_DIR=str(db_settings.data_dir), LSE_DATABASE_URL=db_url)
    before = _rows(old_database)

    verify = run_lse("archive", "verify", "--project", PROJECT, "--date", str(DAY), "--quiet", env=env)
    assert verify.returncode == 1
    line = _one_line(verify)
    assert line.startswith("error: the database ") and f"{OLD}" in line and head_revision() in line
    assert "`lse db upgrade`" in line
    assert current_revision(old_database) == OLD

    for service in (("serve", "--port", "0"), ("worker",)):  # they stop before serving, not in every request
        proc = run_lse(*service, env=env, timeout=60)
        assert proc.returncode == 1 and "`lse db upgrade`" in _one_line(proc), proc.stderr

    cur = run_lse("db", "current", "--json", env=env)
    assert cur.returncode == 0, cur.stderr
    status = json.loads(cur.stdout)
    assert (status["current"], status["state"], status["up_to_date"]) == (OLD, "behind", False)
    human = run_lse("db", "current", env=env)
    assert human.returncode == 0 and "needs `lse db upgrade`" in human.stdout

    up = run_lse("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert f"upgraded {OLD} -> {head_revision()}" in up.stdout
    assert _rows(old_database) == before

    again = run_lse("archive", "verify", "--project", PROJECT, "--date", str(DAY), "--quiet", env=env)
    assert again.returncode == 0, again.stderr


def test_a_revision_this_lse_does_not_know_is_refused_everywhere_but_db_current(db_settings, db_url, old_database):
    upgrade_to_head(old_database)
    _set_revision(old_database, FUTURE)
    before = _rows(old_database)

    with pytest.raises(StorageError) as caught:
        get_engine(db_settings)
    assert caught.value.code == "database_schema_unknown"
    assert FUTURE in str(caught.value) and "newer lse" in str(caught.value) and "upgrade lse" in str(caught.value)

    env = lse_env(LSE_DATA_DIR=str(db_settings.data_dir), LSE_DATABASE_URL=db_url)
    cur = run_lse("db", "current", "--json", env=env)
    assert cur.returncode == 0, cur.stderr
    assert json.loads(cur.stdout)["state"] == "unknown_revision"
    up = run_lse("db", "upgrade", env=env)
    assert up.returncode == 1 and "does not know" in _one_line(up)
    status = run_lse("archive", "status", env=env)
    assert status.returncode == 1 and FUTURE in _one_line(status)

    assert current_revision(old_database) == FUTURE
    assert _rows(old_database) == before


def test_our_tables_without_a_revision_are_not_taken_for_empty(db_settings, old_database):
    _set_revision(old_database, None)
    with pytest.raises(StorageError, match=r"has lse tables \(feedback, fetch_records, runs\) but no schema revision"):
        get_engine(db_settings)
    with pytest.raises(StorageError, match="no schema revision"):
        upgrade_to_head(old_database)  # would fail half-way on "table runs already exists"
    assert db_status(old_database).state == "unversioned"


def test_another_applications_tables_do_not_make_a_database_non_empty(db_settings, db_url):
    other = make_engine(db_url)
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE other_app_things (id integer primary key)"))
        conn.execute(text("INSERT INTO other_app_things VALUES (1)"))
    engine = get_engine(db_settings)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM other_app_things")).scalar_one() == 1
    assert {"runs", "feedback", "fetch_records", "other_app_things"} <= set(inspect(engine).get_table_names())
    other.dispose()


@pytest.mark.parametrize("isolation", [None, "repeatable read"])
def test_processes_first_using_one_empty_database_at_once_all_succeed(db_settings, db_url, isolation):
    """Each one sees it empty and migrates; the lock (advisory on PostgreSQL, BEGIN
    IMMEDIATE on SQLite) makes the later ones find it at head instead of failing on
    "table already exists" — also where the database's default isolation is stricter
    than read committed (the migration reads the revision after the lock, not from an
    older snapshot)."""
    if isolation:
        if not db_url.startswith("postgresql"):
            pytest.skip("isolation levels are PostgreSQL's here")
        admin = make_engine(db_url)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(
                text(f"ALTER DATABASE \"{db_url.rsplit('/', 1)[1]}\" SET default_transaction_isolation = '{isolation}'")
            )
        admin.dispose()
    env = lse_env(LSE_DATA_DIR=str(db_settings.data_dir), LSE_DATABASE_URL=db_url)
    commands = [("archive", "status")] * 6 + [("db", "upgrade")] * 2
    procs = [start_lse(*args, env=env) for args in commands]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in results] == [0] * len(commands), [err for _, err in results]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    engine.dispose()
    dispose_engines()
