"""Batch runs from the command line, as a user runs them: `lse eval run --mode batch` (waiting
here, or `--no-wait` then cron-style `lse eval poll`), `lse eval show` with its batches,
`lse eval cancel`, `lse eval resume RUN` — the real console script against the OpenAI
sandbox's Batch API (real time, batches of about a second)."""

from __future__ import annotations

import json
import time

import pytest

from helpers.cli import lse_env, run_lse


def _ok(proc) -> str:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return proc.stdout


def _one_line_error(proc, code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture
def cli(tmp_path, openai_sandbox):
    f = openai_sandbox.batches.faults
    f.validate_s, f.process_s, f.finalize_s, f.cancel_delay_s = 0.2, 0.4, 0.1, 0.2
    env = lse_env(
        LSE_DATA_DIR=str(tmp_path / "data"),
        OPENAI_BASE_URL=openai_sandbox.base_url,
        OPENAI_API_KEY=openai_sandbox.api_key,
        LSE_EVAL_BATCH_POLL_S="0.2",
    )
    golden = tmp_path / "golden.csv"
    rows = "".join(f"Question {i}?,Answer {i}.\n" for i in range(14))
    golden.write_text("question,answer\n" + rows, encoding="utf-8")
    ds = json.loads(_ok(run_lse("eval", "dataset", "upload", str(golden), "--name", "g", "--json", env=env)))
    cfg = json.loads(
        _ok(run_lse("eval", "config", "create", "--name", "c", "--model", "gpt-4o-mini", "--json", env=env))
    )
    return env, ds["dataset_id"], cfg["id"]


def _run(env, dataset_id, config_id, name, *extra):
    return run_lse(
        "eval", "run", "--dataset", str(dataset_id), "--config", config_id, "--version", "1", "--name", name,
        "--mode", "batch", *extra, env=env,
    )  # fmt: skip


def test_run_mode_batch_waits_here_and_show_lists_the_batches(cli, openai_sandbox) -> None:
    env, dataset_id, config_id = cli
    run = json.loads(_ok(_run(env, dataset_id, config_id, "b1", "--format", "json")))
    assert run["run_mode"] == "batch" and run["status"] == "completed"
    assert run["progress"] == {"total": 14, "succeeded": 14, "failed": 0, "done": 14}
    assert run["cost"]["pricing"] == "batch" and run["score"]["summary_scores"][0]["total_pairs"] == 14
    (batch,) = run["batches"]
    assert batch["request_counts"] == {"total": 14, "completed": 14, "failed": 0}
    table = _ok(run_lse("eval", "show", str(run["id"]), env=env))
    assert "Batches" in table and batch["provider_batch_id"] in table and "14 ok, 0 failed / 14" in table
    assert "collected" in table and "completed" in table
    assert sorted(openai_sandbox.batches.stats.lines_executed.values()) == [1] * 14


def test_no_wait_then_cron_style_poll_finishes_the_run(cli, openai_sandbox) -> None:
    env, dataset_id, config_id = cli
    proc = _run(env, dataset_id, config_id, "b2", "--no-wait", "--format", "json")
    run = json.loads(_ok(proc))
    assert run["status"] == "processing" and "lse eval poll" in proc.stderr
    assert run["batches"][0]["state"] == "submitted"  # its first step happened here: uploaded and created
    deadline = time.monotonic() + 30
    while True:
        polled = json.loads(_ok(run_lse("eval", "poll", "--json", env=env)))
        if any(p["status"] == "completed" for p in polled):
            break
        assert time.monotonic() < deadline, polled
        time.sleep(0.3)
    shown = json.loads(_ok(run_lse("eval", "show", str(run["id"]), "--format", "json", env=env)))
    assert shown["status"] == "completed" and shown["progress"]["succeeded"] == 14
    quiet = run_lse("eval", "poll", env=env)
    assert quiet.returncode == 0 and "no batch run needs a step now" in quiet.stderr
    assert openai_sandbox.batches.stats.batches_created == 1


def test_cancel_from_the_command_line_keeps_what_was_paid_for(cli, openai_sandbox) -> None:
    env, dataset_id, config_id = cli
    openai_sandbox.batches.faults.process_s = 14.0  # a line a second
    run = json.loads(_ok(_run(env, dataset_id, config_id, "b3", "--no-wait", "--format", "json")))
    deadline = time.monotonic() + 20
    while len(openai_sandbox.batches.stats.lines_executed) < 1:
        assert time.monotonic() < deadline
        openai_sandbox.batches.batches_by_status()  # a batch moves on when it is looked at
        time.sleep(0.1)
    done = json.loads(_ok(run_lse("eval", "cancel", str(run["id"]), "--wait", "--format", "json", env=env)))
    assert done["status"] == "cancelled" and done["batches"][0]["provider_status"] == "cancelled"
    executed = len(openai_sandbox.batches.stats.lines_executed)
    assert done["progress"]["succeeded"] == executed >= 1 and done["progress"]["done"] == 14
    again = run_lse("eval", "cancel", str(run["id"]), env=env)
    assert again.returncode == 0 and "cancelled" in again.stdout


def test_resume_a_named_batch_run_steps_it_here_until_it_ends(cli) -> None:
    env, dataset_id, config_id = cli
    run = json.loads(_ok(_run(env, dataset_id, config_id, "b4", "--no-wait", "--format", "json")))
    out = json.loads(_ok(run_lse("eval", "resume", str(run["id"]), "--json", env=env)))
    assert [(o["run_id"], o["status"]) for o in out] == [(run["id"], "completed")]


def test_poll_and_cancel_say_what_is_wrong_in_one_line(cli) -> None:
    env, dataset_id, config_id = cli
    done = json.loads(_ok(_run(env, dataset_id, config_id, "f", "--format", "json")))
    assert "is already completed" in _one_line_error(run_lse("eval", "poll", "--run", str(done["id"]), env=env), 1)
    assert "nothing to cancel" in _one_line_error(run_lse("eval", "cancel", str(done["id"]), env=env), 1)
    assert "not found" in _one_line_error(run_lse("eval", "cancel", "9999", env=env), 1)
