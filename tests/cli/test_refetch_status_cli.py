"""`lse archive refetch` resume and `lse archive status` alert levels, from real fetches."""

from __future__ import annotations

import json
import signal
import time
from datetime import date

from helpers.cli import lse_env, run_lse, start_lse
from lse.sandbox.langsmith import SandboxSpec, ServerApis

DAYS = [date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]
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


def status(env, *args):
    proc = run_lse("archive", "status", "--json", *args, env=env)
    return proc.returncode, json.loads(proc.stdout)


def levels(report):
    return {a["level"] for a in report["alerts"]}


def test_refetch_resumes_after_kill(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS, traces_per_day=12, hard_cases=False)], api_key=KEY)
    env = env_for(tmp_path, sb)
    sb.faults.latency_ms = 60
    args = (
        "archive",
        "refetch",
        "--project",
        "demo-project",
        "--start-date",
        str(DAYS[0]),
        "--end-date",
        str(DAYS[-1]),
    )
    proc = start_lse(*args, "--quiet", env=env)
    checkpoints = tmp_path / "data" / "state" / "refetch"
    deadline = time.time() + 30
    while time.time() < deadline:
        files = list(checkpoints.rglob("*.json"))
        done = json.loads(files[0].read_text())["done"] if files else {}  # atomic: never torn
        if "2026-11-17" in done:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    sb.faults.latency_ms = 0
    sb.counters.reset()
    again = run_lse(*args, "--json", env=env)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert [d["date"] for d in report["days"]] == [str(d) for d in DAYS]
    assert report["days"][0]["resumed"] is True
    assert all(d["status"] == "complete" for d in report["days"])
    # the resumed invocation fetched only the unfinished days
    assert sb.counters.kind("runs_query") <= len(DAYS) - 1
    _code, st = status(env)
    infos = [a["message"] for a in st["alerts"] if a["level"] == "INFO"]
    assert any("re-fetch started" in m for m in infos) and any("re-fetch completed" in m for m in infos)
    assert st["refetch"][0]["days_done"] == len(DAYS)


def test_alert_levels_from_real_fetches(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS, traces_per_day=30, hard_cases=False)], api_key=KEY)
    env = env_for(tmp_path, sb, LSE_REQUEST_DELAY_MS="30")  # a pacing floor makes per-run times stable

    def fetch(day, **e):
        return run_lse("archive", "fetch", "--project", "demo-project", "--date", str(day), "--quiet", env={**env, **e})

    # SUCCESS: a clean fetch passes feedback validation; exit 0
    assert fetch(DAYS[0]).returncode == 0
    assert fetch(DAYS[1]).returncode == 0
    code, st = status(env)
    assert code == 0 and levels(st) == {"SUCCESS"}
    assert st["fetches"][0]["feedback_coverage_rate"] == 1.0

    # WARNING: a fetch far slower per run than the project's baseline; exit 1
    sb.faults.latency_ms = 150
    assert fetch(DAYS[2]).returncode == 0
    sb.faults.latency_ms = 0
    code, st = status(env)
    assert code == 1 and "WARNING" in levels(st), [(f["day"], f["duration_s"], f["runs"]) for f in st["fetches"]]

    # CRITICAL: the feedback endpoint fails, extraction failure rate 100% > 5%; exit 2
    sb.faults.feedback_status = 500
    assert fetch(DAYS[3], LSE_MAX_RETRIES="1").returncode == 3
    code, st = status(env)
    assert code == 2 and "CRITICAL" in levels(st)
    crit = next(a for a in st["alerts"] if a["level"] == "CRITICAL")
    assert crit["day"] == str(DAYS[3])

    # the same figures for a textfile collector
    prom = run_lse("archive", "status", "--format", "prometheus", env=env)
    assert prom.returncode == 2
    assert 'lse_feedback_extraction_failure_ratio{day="2026-11-20",project="demo-project"} 1.0' in prom.stdout
    assert "lse_status_exit_code 2.0" in prom.stdout
    table = run_lse("archive", "status", env=env)
    assert table.returncode == 2 and "CRITICAL" in table.stdout


def test_verify_against_source_reports_upstream_changes(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS[-1:], traces_per_day=10)], api_key=KEY)
    env = env_for(tmp_path, sb)
    assert (
        run_lse("archive", "fetch", "--project", "demo-project", "--date", str(DAYS[-1]), "--quiet", env=env).returncode
        == 0
    )
    args = (
        "archive",
        "verify",
        "--project",
        "demo-project",
        "--date",
        str(DAYS[-1]),
        "--against-source",
        "--sample",
        "1000",
        "--json",
    )
    ok = run_lse(*args, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["differences"] == []
    fid = next(
        f["id"] for r in sb.world.runs_for_day("demo-project", DAYS[-1]) for f in sb.world.feedback_for_run(r["id"])
    )
    sb.world.edit_feedback(fid, comment="changed upstream")
    bad = run_lse(*args, env=env)
    assert bad.returncode == 3
    diffs = json.loads(bad.stdout)["differences"]
    assert any(d["what"] == "feedback changed" and fid in d["detail"] for d in diffs)


def test_deprecation_headers_become_a_warning_in_every_status_format(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox(
        [SandboxSpec(days=DAYS[-2:], traces_per_day=5, hard_cases=False)], api_key=KEY, apis=ServerApis.v1_deprecated()
    )
    env = env_for(tmp_path, sb)
    args = ("archive", "fetch", "--project", "demo-project", "--quiet", "--date")
    assert run_lse(*args, str(DAYS[-2]), env=env).returncode == 0  # auto: v2, nothing deprecated
    code, st = status(env)
    assert code == 0 and "WARNING" not in levels(st) and st["fetches"][0]["run_api"] == "v2"

    assert run_lse(*args, str(DAYS[-1]), env={**env, "LSE_LANGSMITH_RUN_API": "v1"}).returncode == 0
    code, st = status(env)
    assert code == 1
    warning = next(a for a in st["alerts"] if a["kind"] == "deprecation")  # (a slow-fetch WARNING may join it)
    assert warning["level"] == "WARNING" and warning["endpoint"] == "POST /runs/query"
    assert warning["sunset"] == "Sun, 31 Jan 2027 00:00:00 GMT" and warning["day"] == str(DAYS[-1])
    assert "POST /runs/query" in warning["message"] and "2027-01-31" in warning["message"]
    assert "LSE_LANGSMITH_RUN_API" in warning["message"]
    assert {f["run_api"] for f in st["fetches"]} == {"v1", "v2"}

    table = run_lse("archive", "status", env={**env, "COLUMNS": "250"})
    assert table.returncode == 1 and "WARNING" in table.stdout and "2027-01-31" in table.stdout
    assert "v1" in table.stdout and "v2" in table.stdout  # the api column
    prom = run_lse("archive", "status", "--format", "prometheus", env=env)
    assert prom.returncode == 1
    assert 'lse_alerts{level="WARNING"} 0.0' not in prom.stdout and 'lse_alerts{level="CRITICAL"} 0.0' in prom.stdout
    assert (
        'lse_langsmith_deprecated_endpoint{endpoint="POST /runs/query",project="demo-project",'
        'sunset="Sun, 31 Jan 2027 00:00:00 GMT"} 1.0'
    ) in prom.stdout
    assert (
        'lse_langsmith_endpoint_sunset_timestamp_seconds{endpoint="POST /runs/query",project="demo-project"} 1.8013536e+09'
    ) in prom.stdout
    assert f'lse_fetch_run_api{{api="v1",day="{DAYS[-1]}",project="demo-project"}} 1.0' in prom.stdout
