"""`lse db upgrade` / `lse db current` as a user runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from helpers.cli import lse_env, run_lse
from lse.store.migrate import head_revision


def test_upgrade_then_current(tmp_path, db_url):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"), LSE_DATABASE_URL=db_url)

    up = run_lse("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert f"-> {head_revision()}" in up.stdout

    cur = run_lse("db", "current", "--json", env=env)
    assert cur.returncode == 0, cur.stderr
    status = json.loads(cur.stdout)
    assert status["current"] == head_revision() and status["up_to_date"] is True
    assert status["backend"] in {"sqlite", "postgresql"}


def test_unreachable_database_is_one_line_exit_1(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path), LSE_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    proc = run_lse("db", "current", env=env)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: database error") and "LSE_DATABASE_URL" in lines[0]
