"""`lse archive full-sweep` opens the database before it asks LangSmith for anything: a
database that is down, or needs `lse db upgrade`, fails the sweep at once, with zero
requests sent and nothing archived."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from helpers.cli import lse_env, run_lse
from helpers.langsmith_fixtures import SANDBOX_DAY, SANDBOX_KEY
from lse.errors import StorageError
from lse.jobs.full_sweep import full_sweep
from lse.settings import Settings
from lse.store.engine import make_engine
from lse.store.migrate import current_revision, upgrade_to_head

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"  # nothing listens on port 1


def _env(tmp_path, sb, database_url: str) -> dict[str, str]:
    return lse_env(
        LSE_DATA_DIR=str(tmp_path / "data"),
        LSE_DATABASE_URL=database_url,
        LANGSMITH_ENDPOINT=sb.url,
        LANGSMITH_API_KEY=SANDBOX_KEY,
        LSE_REQUEST_DELAY_MS="0",
    )


def _sweep(env):
    return run_lse("archive", "full-sweep", "--project", "demo-project", "--date", str(SANDBOX_DAY), "--quiet", env=env)


def test_unreachable_database_fails_before_any_request(tmp_path, langsmith_sandbox):
    proc = _sweep(_env(tmp_path, langsmith_sandbox, UNREACHABLE))
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr  # no "fetch record not written" warning: nothing was fetched
    assert lines[0].startswith("error: database error while reading the schema revision of postgresql+psycopg://")
    assert langsmith_sandbox.counters.total == 0
    assert not (tmp_path / "data" / "archive").exists()


def test_database_needing_upgrade_fails_before_any_request(tmp_path, langsmith_sandbox):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine, "0001_archive")
    proc = _sweep(_env(tmp_path, langsmith_sandbox, url))
    assert proc.returncode == 1
    assert "`lse db upgrade`" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert langsmith_sandbox.counters.total == 0
    assert not (tmp_path / "data" / "archive").exists()
    assert current_revision(engine) == "0001_archive"
    engine.dispose()


def test_service_raises_storage_error_with_no_requests(tmp_path, langsmith_sandbox):
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=UNREACHABLE,
        request_delay_ms=0,
        langsmith_endpoint=langsmith_sandbox.url,
        langsmith_api_key=SANDBOX_KEY,
    )
    with pytest.raises(StorageError, match="reading the schema revision"):
        full_sweep(settings, "demo-project", [SANDBOX_DAY])
    assert langsmith_sandbox.counters.total == 0


def test_reachable_empty_database_sweeps_as_before(tmp_path, langsmith_sandbox, db_url):
    proc = run_lse(
        "archive",
        "full-sweep",
        "--project",
        "demo-project",
        "--date",
        str(SANDBOX_DAY),
        "--json",
        env=_env(tmp_path, langsmith_sandbox, db_url),
    )
    assert proc.returncode == 0, proc.stderr
    day = json.loads(proc.stdout)["days"][0]
    assert day["fetch"]["runs"] == len(langsmith_sandbox.world.runs_for_day("demo-project", SANDBOX_DAY))
    assert day["load"]["runs_inserted"] == day["fetch"]["runs"]
    assert langsmith_sandbox.counters.total > 0
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == day["fetch"]["runs"]
    engine.dispose()
