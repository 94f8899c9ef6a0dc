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
