"""`lse eval export` and `lse eval dataset push` as a user runs them (the real console
script in a subprocess): data on stdout, one line on stderr for an error, exit codes."""

from __future__ import annotations

import json

from helpers.cli import lse_env, run_lse
from helpers.fast_eval import fast_settings, run_row
from helpers.tracing_runs import completed_run, langfuse_env
from lse.sandbox.langsmith import LangSmithSandbox
from lse.sandbox.langsmith.ledger import ledger_of


def _one_line_error(proc, code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_export_and_push_from_the_command_line(settings, openai_sandbox, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    base = fast_settings(settings, openai_sandbox)
    with LangSmithSandbox([]) as ls:
        run_id = completed_run(base)
        dataset_id = run_row(base, run_id).dataset_id
        env = lse_env(
            LSE_DATA_DIR=str(settings.data_dir),
            LANGFUSE_PUBLIC_KEY=sb.public_key,
            LANGFUSE_SECRET_KEY=sb.secret_key,
            LANGFUSE_HOST=sb.url,
            LANGSMITH_ENDPOINT=ls.url,
            LANGSMITH_API_KEY=ls.api_key,
            LSE_TRACING_REQUESTS_PER_MINUTE="60000",
        )
        both = run_lse("eval", "export", str(run_id), "--json", env=env)
        assert both.returncode == 0, both.stderr
        outcomes = {o["target"]: o for o in json.loads(both.stdout)}
        assert {t: (o["state"], o["exported"]) for t, o in outcomes.items()} == {
            "langfuse": ("confirmed", 5),
            "langsmith": ("confirmed", 5),
        }
        again = run_lse("eval", "export", str(run_id), "--to", "langsmith", env=env)
        assert again.returncode == 0 and "confirmed" in again.stdout
        assert len(ledger_of(ls.world).run_posts) == 5

        pushed = run_lse(
            "eval", "dataset", "push", str(dataset_id), "--org", "acme", "--project", "support", "--json", env=env
        )
        assert pushed.returncode == 0, pushed.stderr
        assert json.loads(pushed.stdout)["unchanged"] == 5

        wrong = run_lse("eval", "dataset", "push", str(dataset_id), "--org", "acme", "--project", "other", env=env)
        assert "no project" in _one_line_error(wrong, 1)


def test_export_with_nothing_configured_says_what_to_set(settings, openai_sandbox) -> None:
    base = fast_settings(settings, openai_sandbox)
    run_id = completed_run(base)
    env = lse_env(LSE_DATA_DIR=str(settings.data_dir))
    named = run_lse("eval", "export", str(run_id), "--to", "langfuse", env=env)
    assert "LANGFUSE_PUBLIC_KEY" in _one_line_error(named, 1)
    unnamed = run_lse("eval", "export", str(run_id), env=env)
    assert "no tracing target is configured" in _one_line_error(unnamed, 1)


def test_a_run_still_sent_but_not_seen_exits_3(settings, openai_sandbox, langfuse_sandbox) -> None:
    sb = langfuse_sandbox
    run_id = completed_run(fast_settings(settings, openai_sandbox))
    sb.faults.status_for = {"/api/public/otel/": 503}
    env = lse_env(
        LSE_DATA_DIR=str(settings.data_dir),
        LANGFUSE_PUBLIC_KEY=sb.public_key,
        LANGFUSE_SECRET_KEY=sb.secret_key,
        LANGFUSE_HOST=sb.url,
        LSE_TRACING_REQUESTS_PER_MINUTE="60000",
        LSE_REQUEST_TIMEOUT_S="2",
    )
    partial = run_lse("eval", "export", str(run_id), "--to", "langfuse", env=env)
    # the OpenTelemetry exporter logs its failed attempts; the last line is lse's verdict
    assert partial.returncode == 3 and "Traceback" not in partial.stderr, partial.stderr
    assert "not yet visible" in partial.stderr.strip().splitlines()[-1]


def test_a_run_made_here_is_exported_when_it_completes(tmp_path, openai_sandbox, langfuse_sandbox) -> None:
    """`lse eval run` exports the run it completes, as a worker does; a target that is down
    costs the run nothing — one line says so, and `lse eval export` sends it later."""
    sb = langfuse_sandbox
    env = lse_env(
        LSE_DATA_DIR=str(tmp_path / "data"),
        OPENAI_BASE_URL=openai_sandbox.base_url,
        OPENAI_API_KEY=openai_sandbox.api_key,
        **langfuse_env(sb),
        LSE_TRACING_REQUESTS_PER_MINUTE="60000",
        LSE_REQUEST_TIMEOUT_S="2",
        LSE_EVAL_BATCH_POLL_S="0.2",
    )
    f = openai_sandbox.batches.faults
    f.validate_s, f.process_s, f.finalize_s = 0.2, 0.4, 0.1
    golden = tmp_path / "golden.csv"
    golden.write_text("question,answer\n" + "".join(f"Question {i}?,Answer {i}.\n" for i in range(4)), "utf-8")
    dataset = json.loads(run_lse("eval", "dataset", "upload", str(golden), "--name", "g", "--json", env=env).stdout)
    config = json.loads(
        run_lse("eval", "config", "create", "--name", "c", "--model", "gpt-4o-mini", "--json", env=env).stdout
    )

    def run(name: str, mode: str = "fast"):
        proc = run_lse(
            "eval", "run", "--dataset", str(dataset["dataset_id"]), "--config", config["id"], "--version", "1",
            "--name", name, "--mode", mode, "--format", "json", env=env,
        )  # fmt: skip
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        return json.loads(proc.stdout), proc.stderr

    first, stderr = run("here-1")
    assert first["status"] == "completed"
    assert f"run {first['id']}: exported to langfuse" in stderr
    assert len(sb.state.observations) == 4
    batch, stderr = run("here-batch", "batch")  # waited for here: exported once it completes
    assert batch["status"] == "completed" and f"run {batch['id']}: exported to langfuse" in stderr
    assert len(sb.state.observations) == 8

    sb.stop()  # connection refused, as an outage looks
    second, stderr = run("here-2")
    assert second["status"] == "completed"
    (line,) = [x for x in stderr.splitlines() if x.startswith(f"run {second['id']}:")]
    assert "langfuse export pending" in line and f"lse eval export {second['id']}" in line
    sb.start()
    later = run_lse("eval", "export", str(second["id"]), "--json", env=env)
    assert later.returncode == 0, later.stderr
    assert [(o["state"], o["exported"]) for o in json.loads(later.stdout)] == [("confirmed", 4)]
    assert len(sb.state.observations) == 12
