"""Exit codes are a contract: 0 ok, 1 error, 2 usage, 3 partial (see README)."""

from __future__ import annotations

from helpers.cli import lse_env, run_lse


def test_usage_errors_exit_2_without_traceback(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path))
    for args in (
        ["archive", "fetch", "--date", "2026-11-20"],  # missing --project
        ["archive", "fetch", "--project", "p", "--date", "2026-11-20", "--delay-ms", "-5"],
        ["archive", "fetch", "--project", "p", "--start-date", "2026-11-21", "--end-date", "2026-11-20"],
        ["archive", "nope"],
    ):
        proc = run_lse(*args, env=env)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_version_and_help_exit_0(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path))
    assert run_lse("--version", env=env).stdout.startswith("lse ")
    assert run_lse("archive", "--help", env=env).returncode == 0


def test_interrupt_exits_130_and_leaves_no_half_day(tmp_path, make_langsmith_sandbox):
    import signal
    import time
    from datetime import date

    from helpers.cli import start_lse
    from lse.sandbox.langsmith import SandboxSpec

    sb = make_langsmith_sandbox([SandboxSpec(days=[date(2026, 11, 20)], traces_per_day=40)], api_key="k")
    sb.faults.latency_ms = 200
    env = lse_env(
        LSE_DATA_DIR=str(tmp_path / "data"), LANGSMITH_ENDPOINT=sb.url, LANGSMITH_API_KEY="k", LSE_REQUEST_DELAY_MS="0"
    )
    proc = start_lse("archive", "fetch", "--project", "demo-project", "--date", "2026-11-20", "--quiet", env=env)
    deadline = time.monotonic() + 30
    while sb.counters.kind("runs_query") < 1:  # mid-day: the runs are in, the feedback is not
        assert time.monotonic() < deadline and proc.poll() is None, "the fetch never reached its run query"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert not list((tmp_path / "data").rglob("runs.jsonl"))


def test_to_db_and_verify_of_nothing_are_errors(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"))
    for args in (
        ["archive", "to-db", "--project", "typo", "--start-date", "2026-11-01", "--end-date", "2026-11-03"],
        ["archive", "verify", "--project", "typo", "--start-date", "2026-11-01", "--end-date", "2026-11-03"],
        ["archive", "verify", "--project", "typo", "--date", "2026-11-01", "--against-source"],
    ):
        proc = run_lse(*args, env=env)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "nothing is archived for project 'typo'" in proc.stderr


def test_readme_lists_every_exit_code_and_the_errors_use_them():
    import re
    from pathlib import Path

    from lse.errors import ExitCode, PartialResult, UsageError, VerificationFailed

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    listed = {int(n) for n in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    assert listed == {int(code) for code in ExitCode}
    assert UsageError.exit_code == ExitCode.USAGE
    assert PartialResult.exit_code == VerificationFailed.exit_code == ExitCode.PARTIAL
