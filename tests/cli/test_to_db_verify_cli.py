"""`lse archive to-db` and `lse archive verify` as a user runs them: exit 0 when all is
well, 3 when a row could not be loaded or files and database disagree."""

from __future__ import annotations

import json
import shlex

from sqlalchemy import create_engine, text

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from helpers.cli import lse_env, run_lse
from lse.settings import Settings


def _setup(tmp_path, db_url):
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    runs = []
    for _ in range(3):
        run = make_run(feedback=[], inputs={"q": "with nul \x00 and \ud800"})
        run["feedback_records"] = [make_feedback(run, verdict="FAIL", true_factors=("criteria_a",))]
        runs.append(run)
    runs.append(make_run(status=None, feedback=None))
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"), LSE_DATABASE_URL=db_url)
    return settings, runs, env


def test_to_db_then_verify_ok_then_tampered_exit_3(tmp_path, db_url):
    settings, runs, env = _setup(tmp_path, db_url)
    write_day(settings, PROJECT, DAY, runs)

    load = run_lse("archive", "to-db", "--project", PROJECT, "--date", str(DAY), "--json", env=env)
    assert load.returncode == 0, load.stderr
    report = json.loads(load.stdout)
    assert report["runs_inserted"] == 4 and report["feedback"]["unknown"] == 1 and report["status"] == "complete"

    ok = run_lse("archive", "verify", "--project", PROJECT, "--date", str(DAY), env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok" in ok.stdout

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM feedback WHERE feedback_id = :f"), {"f": runs[0]["feedback_records"][0]["id"]})
        conn.execute(
            text("UPDATE feedback SET score = 0.5 WHERE feedback_id = :f"), {"f": runs[1]["feedback_records"][0]["id"]}
        )
        conn.execute(text("UPDATE runs SET trace_id = 'moved' WHERE run_id = :r"), {"r": runs[2]["id"]})
    engine.dispose()
    bad = run_lse("archive", "verify", "--project", PROJECT, "--date", str(DAY), env=env)
    assert bad.returncode == 3, bad.stdout + bad.stderr
    assert "feedback_row_missing" in bad.stdout and "feedback_row_mismatch" in bad.stdout
    assert "column_mismatch" in bad.stdout
    assert bad.stderr.strip().startswith("error: files and database disagree")

    # The command the error advises, as printed, repairs it.
    advised = bad.stderr.split("`")[1]
    assert advised.startswith("lse archive to-db ") and f"--date {DAY}" in advised
    repair = run_lse(*shlex.split(advised)[1:], env=env)
    assert repair.returncode == 0, repair.stderr
    assert run_lse("archive", "verify", "--project", PROJECT, "--date", str(DAY), env=env).returncode == 0


def test_a_bad_row_is_isolated_and_exits_3(tmp_path, db_url):
    settings, runs, env = _setup(tmp_path, db_url)
    write_day(settings, PROJECT, DAY, runs, raw_lines=['{"name": "a run without an id"}'])

    proc = run_lse("archive", "to-db", "--project", PROJECT, "--start-date", str(DAY), "--end-date", str(DAY), env=env)

    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "bad row" in proc.stderr and "run has no id" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: 1 run(s) could not be loaded")
    verify = run_lse("archive", "verify", "--project", PROJECT, "--date", str(DAY), "--json", env=env)
    (day_report,) = json.loads(verify.stdout)
    assert day_report["runs_in_db"] == 4  # every good run landed
    assert [d["kind"] for d in day_report["differences"]] == ["run_unreadable_in_file"]


def test_usage_errors_exit_2(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"))
    proc = run_lse("archive", "to-db", "--project", "p", "--date", "2025-13-01", env=env)
    assert proc.returncode == 2 and "--date must be a date" in proc.stderr
    missing = run_lse("archive", "verify", "--project", "p", "--date", "2025-01-01", env=env)
    assert missing.returncode == 1 and "is archived for project" in missing.stderr
