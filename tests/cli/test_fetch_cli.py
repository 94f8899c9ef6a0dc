"""`lse archive fetch` as a user runs it: exit codes, one-line errors, kill -9 and resume."""

from __future__ import annotations

import json
import signal
import time
from datetime import date

import pytest

from helpers.cli import lse_env, run_lse, start_lse
from lse.archive.reader import iter_stored_runs, read_manifest
from lse.sandbox.langsmith import SandboxSpec, ServerApis
from lse.settings import Settings

DAY = date(2026, 11, 20)
KEY = "sandbox-key"


def env_for(tmp_path, sb, **extra):
    values = {
        "LSE_DATA_DIR": str(tmp_path / "data"),
        "LANGSMITH_ENDPOINT": sb.url,
        "LANGSMITH_API_KEY": KEY,
        "LSE_REQUEST_DELAY_MS": "0",
        "LSE_RETRY_BASE_WAIT_S": "0.01",
    }
    return lse_env(**{**values, **extra})


def wait_until_mid_day(sb, timeout_s: float = 30) -> None:
    """Until the fetch has its runs and is fetching feedback: killed now, it dies mid-day."""
    deadline = time.monotonic() + timeout_s
    while sb.counters.kind("feedback") < 1:
        assert time.monotonic() < deadline, "the fetch never reached its feedback batches"
        time.sleep(0.02)


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
    assert report["run_api"] == report["days"][0]["run_api"] == "v2"
    assert proc.stderr == ""


def test_the_table_names_the_runs_query_api_and_deprecations(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox(
        [SandboxSpec(days=[DAY], traces_per_day=5, hard_cases=False)], api_key=KEY, apis=ServerApis.v1_deprecated()
    )
    env = env_for(tmp_path, sb, LSE_LANGSMITH_RUN_API="v1", COLUMNS="200")
    proc = run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "via the v1 runs query" in proc.stdout
    assert "LangSmith marks POST /runs/query deprecated (Sunset: Sun, 31 Jan 2027 00:00:00 GMT)" in proc.stdout


def test_a_bad_setting_stops_before_any_work(tmp_path, make_langsmith_sandbox):
    """A range fetch with an unusable database URL used to archive the first day, then
    die on recording it: exit 1, no report, half the range done."""
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=3, hard_cases=False)], api_key=KEY)
    for name, value, says in (
        ("LSE_DATABASE_URL", "mysql://db.example/lse", "LSE_DATABASE_URL"),
        ("LSE_DATABASE_URL", "sqlite:///:memory:", "LSE_DATABASE_URL"),
        ("LSE_DATA_DIR", str(tmp_path / "a-file"), "LSE_DATA_DIR"),
        ("LANGSMITH_ENDPOINT", "ftp://example", "LANGSMITH_ENDPOINT"),
    ):
        (tmp_path / "a-file").write_text("not a folder")
        env = env_for(tmp_path, sb, **{name: value})
        args = ("--project", "demo-project", "--start-date", str(DAY), "--end-date", "2026-11-21", "--quiet")
        for command in ("fetch", "full-sweep", "refetch"):
            proc = run_lse("archive", command, *args, env=env)
            assert proc.returncode == 1, (command, name, proc.stderr)
            assert says in one_line_error(proc), (command, name)
        assert sb.counters.total == 0, name  # not one request
        assert not list(tmp_path.rglob("runs.jsonl")), name


def test_commands_on_the_archive_check_the_database_url_first(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=3, hard_cases=False)], api_key=KEY)
    env = env_for(tmp_path, sb)
    assert run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "-q", env=env).returncode == 0
    bad = {**env, "LSE_DATABASE_URL": "mysql://db.example/lse"}
    day = ("--project", "demo-project", "--date", str(DAY))
    for args in (("to-db", *day), ("verify", *day), ("status",), ("status", "--format", "prometheus")):
        proc = run_lse("archive", *args, env=bad)
        assert proc.returncode == 1, (args, proc.stderr)
        assert "LSE_DATABASE_URL" in one_line_error(proc) and proc.stdout == "", args


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


@pytest.mark.parametrize("run_api", ["v2", "v1"])
def test_kill_9_then_rerun_completes_without_duplicates(tmp_path, make_langsmith_sandbox, run_api):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=60)], api_key=KEY)
    env = env_for(tmp_path, sb, LSE_LANGSMITH_RUN_API=run_api)
    # a first complete fetch, then a slow one that is killed mid-way: the archive must
    # still hold the complete day, and a rerun must complete with no duplicates.
    assert (
        run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--quiet", env=env).returncode == 0
    )
    sb.faults.latency_ms = 150
    sb.counters.reset()
    proc = start_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--quiet", env=env)
    wait_until_mid_day(sb)
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
    assert read_manifest(settings, "demo-project", DAY).run_api == run_api
    leftovers = [p.name for p in (tmp_path / "data").rglob(".tmp-*")]
    assert len(leftovers) <= 1  # at most the killed writer's temp file, never read


@pytest.mark.parametrize("run_api", ["v2", "v1"])
def test_kill_9_on_first_fetch_leaves_no_half_day(tmp_path, make_langsmith_sandbox, run_api):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=60)], api_key=KEY)
    env = env_for(tmp_path, sb, LSE_LANGSMITH_RUN_API=run_api)
    sb.faults.latency_ms = 150
    proc = start_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--quiet", env=env)
    wait_until_mid_day(sb)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not list((tmp_path / "data").rglob("runs.jsonl"))
    sb.faults.latency_ms = 0
    again = run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAY), "--json", env=env)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["days"][0]["runs"] == len(sb.world.runs_for_day("demo-project", DAY))
    assert report["run_api"] == run_api
