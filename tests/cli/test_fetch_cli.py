"""`lse archive fetch` as a user runs it: exit codes, one-line errors, kill -9 and resume."""

from __future__ import annotations

import json
import signal
import time
from datetime import date

from helpers.cli import lse_env, run_lse, start_lse
from lse.archive.reader import iter_stored_runs
from lse.sandbox.langsmith import SandboxSpec
from lse.settings import Settings

DAY = date(2026, 11, 20)
KEY = "sandbox-key"


def env_for(tmp_path, sb, **extra):
    return lse_env(
        LSE_DATA_DIR=str(tmp_path / "data"),
        LANGSMITH_ENDPOINT=sb.url,
        LANGSMITH_API_KEY=KEY,
        LSE_REQUEST_DELAY_MS="0",
        LSE_RETRY_BASE_WAIT_S="0.01",
        **extra,
    )


def one_line_error(proc) -> str:
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_fetch_json_report_and_exit_0(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=10)], api_key=KEY)
    proc = run_lse(
        "archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--json", env=env_for(tmp_path, sb)
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["days"][0]["status"] == "complete"
    assert report["days"][0]["runs"] == len(sb.world.runs_for_day("demo-project", DAY))
    assert proc.stderr == ""


def test_bad_input_gives_one_line_and_distinct_codes(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=2, hard_cases=False)], api_key=KEY)
    env = env_for(tmp_path, sb)
    bad_date = run_lse("archive", "fetch", "--project", "demo-project", "--date", "2026-02-30", env=env)
    assert bad_date.returncode == 2 and "--date" in one_line_error(bad_date)
    unknown = run_lse("archive", "fetch", "--project", "nope", "--date", str(DAY), env=env)
    assert unknown.returncode == 1 and "no project named 'nope'" in one_line_error(unknown)
    no_key = dict(env)
    no_key.pop("LANGSMITH_API_KEY")
    missing = run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), env=no_key)
    assert missing.returncode == 1 and "LANGSMITH_API_KEY" in one_line_error(missing)
    wrong = run_lse(
        "archive", "fetch", "--project", "demo-project", "--date", str(DAY), env={**env, "LANGSMITH_API_KEY": "bad"}
    )
    assert wrong.returncode == 1 and "API key" in one_line_error(wrong)


def test_partial_day_exits_3(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=10)], api_key=KEY)
    sb.faults.feedback_status = 500
    proc = run_lse(
        "archive",
        "fetch",
        "--project",
        "demo-project",
        "--date",
        str(DAY),
        "--quiet",
        env=env_for(tmp_path, sb, LSE_MAX_RETRIES="1"),
    )
    assert proc.returncode == 3
    assert "incomplete" in one_line_error(proc)


def test_traversal_project_name_stays_in_data_dir(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox(
        [SandboxSpec(project="../../escape", days=[DAY], traces_per_day=3, hard_cases=False)], api_key=KEY
    )
    proc = run_lse(
        "archive", "fetch", "--project", "../../escape", "--date", str(DAY), "--quiet", env=env_for(tmp_path, sb)
    )
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / "data").resolve()
    written = list(tmp_path.rglob("runs.jsonl"))
    assert written and all(data in p.resolve().parents for p in written)


def test_kill_9_then_rerun_completes_without_duplicates(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=60)], api_key=KEY)
    env = env_for(tmp_path, sb)
    # a first complete fetch, then a slow one that is killed mid-way: the archive must
    # still hold the complete day, and a rerun must complete with no duplicates.
    assert (
        run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--quiet", env=env).returncode == 0
    )
    sb.faults.latency_ms = 150
    proc = start_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--quiet", env=env)
    time.sleep(1.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    settings = Settings(data_dir=tmp_path / "data")
    ids = [r["id"] for r in iter_stored_runs(settings, "demo-project", DAY)]
    assert len(ids) == len(set(ids)) == len(sb.world.runs_for_day("demo-project", DAY))
    sb.faults.latency_ms = 0
    again = run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--quiet", env=env)
    assert again.returncode == 0, again.stderr
    ids = [r["id"] for r in iter_stored_runs(settings, "demo-project", DAY)]
    assert len(ids) == len(set(ids)) == len(sb.world.runs_for_day("demo-project", DAY))
    leftovers = [p.name for p in (tmp_path / "data").rglob(".tmp-*")]
    assert len(leftovers) <= 1  # at most the killed writer's temp file, never read


def test_kill_9_on_first_fetch_leaves_no_half_day(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=60)], api_key=KEY)
    env = env_for(tmp_path, sb)
    sb.faults.latency_ms = 150
    proc = start_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--quiet", env=env)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not list((tmp_path / "data").rglob("runs.jsonl"))
    sb.faults.latency_ms = 0
    again = run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["days"][0]["runs"] == len(sb.world.runs_for_day("demo-project", DAY))
