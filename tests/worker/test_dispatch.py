"""The embedded backend and the dispatch contract."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from helpers.fast_eval import fast_settings, make_fast_run, run_row
from lse.errors import ConflictError
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun, utcnow
from lse.worker import dispatch


def _wait_status(settings, run_id: int, status: str, timeout: float = 20.0) -> EvaluationRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = run_row(settings, run_id)
        if run.status == status:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} is {run_row(settings, run_id).status}, not {status}")


def test_fast_and_batch_have_an_engine(settings) -> None:
    assert dispatch.available_modes(settings) == {"fast", "batch"}


def test_submit_runs_on_the_in_process_pool(settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox)
    run_id = make_fast_run(fs, 5)
    dispatch.start_background(fs)
    try:
        dispatch.submit_run(fs, run_id)
        run = _wait_status(fs, run_id, "completed")
        assert run.items_succeeded == 5
    finally:
        dispatch.stop_background()


def test_start_background_picks_up_a_run_a_dead_process_left(settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox)
    run_id = make_fast_run(fs, 4)
    with unit_of_work(get_engine(fs)) as s:
        s.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id)
            .values(status="processing", heartbeat_at=utcnow() - timedelta(hours=1))
        )
    dispatch.start_background(fs)
    try:
        _wait_status(fs, run_id, "completed")
    finally:
        dispatch.stop_background()


def test_run_inline_reports_progress_and_refuses_finished_runs(settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox)
    run_id = make_fast_run(fs, 3)

    class Recorder:
        def __init__(self) -> None:
            self.events: list = []

        def start(self, total, label=""):
            self.events.append(("start", total, label))

        def update(self, n=1):
            self.events.append(("update", n))

        def complete(self):
            self.events.append(("complete",))

        def log(self, message):
            pass

    rec = Recorder()
    out = dispatch.run_inline(fs, run_id, rec)
    assert out.status == "completed"
    assert ("start", 3, "responses") in rec.events and rec.events.count(("update", 1)) >= 3
    with pytest.raises(ConflictError):
        dispatch.run_inline(fs, run_id)


def test_resume_command(settings, openai_sandbox, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from lse.cli.eval import app
    from lse.cli.eval import resume as _resume  # noqa: F401 - registers the command

    fs = fast_settings(settings, openai_sandbox)
    run_id = make_fast_run(fs, 3)
    with unit_of_work(get_engine(fs)) as s:
        s.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id)
            .values(status="processing", heartbeat_at=utcnow() - timedelta(hours=1))
        )
    monkeypatch.setenv("LSE_DATA_DIR", str(fs.data_dir))
    monkeypatch.setenv("OPENAI_BASE_URL", openai_sandbox.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", openai_sandbox.api_key)
    result = CliRunner().invoke(app, ["resume", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["status"] == "completed"
    assert run_row(fs, run_id).status == "completed"


def test_lse_eval_run_executes_fast_by_default(settings, openai_sandbox, monkeypatch, tmp_path) -> None:
    """`--mode` used to default to batch, which has no engine: a bare `lse eval run` always failed."""
    import json

    from typer.testing import CliRunner

    from lse.cli.eval import app

    monkeypatch.setenv("LSE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OPENAI_BASE_URL", openai_sandbox.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", openai_sandbox.api_key)
    golden = tmp_path / "golden.csv"
    golden.write_text("question,answer\nWhat is 2+2?,4\n", encoding="utf-8")
    runner = CliRunner()
    ds = json.loads(runner.invoke(app, ["dataset", "upload", str(golden), "--name", "g", "--json"]).stdout)
    cfg = json.loads(runner.invoke(app, ["config", "create", "--name", "c", "--model", "gpt-4o-mini", "--json"]).stdout)
    result = runner.invoke(
        app,
        [
            "run",
            "--dataset",
            str(ds["dataset_id"]),
            "--config",
            cfg["id"],
            "--version",
            "1",
            "--name",
            "plain",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert (run["run_mode"], run["status"], run["progress"]["succeeded"]) == ("fast", "completed", 1)


def test_resume_refuses_a_stale_after_a_live_run_could_fall_under(settings, monkeypatch) -> None:
    from typer.testing import CliRunner

    from lse.cli.eval import app

    monkeypatch.setenv("LSE_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(app, ["resume", "--stale-after", "5"])
    message = " ".join(result.output.replace("│", " ").split())
    assert (
        result.exit_code == 2
        and "Invalid value for '--stale-after'" in message
        and "greater than or equal to 15" in message
    )


def test_lse_worker_without_a_broker_says_what_to_set(settings) -> None:
    from lse.cli.worker import worker
    from lse.errors import ConfigError

    with pytest.raises(ConfigError, match="LSE_CELERY_BROKER_URL"):
        worker(concurrency=1, pool="threads", queue=None, loglevel="WARNING", recover=False, stale_after=60.0)


def test_resume_says_when_and_by_whom_a_held_run_is_picked_up(settings, openai_sandbox) -> None:
    from helpers.cli import lse_env, run_lse

    fs = fast_settings(settings, openai_sandbox)
    run_id = make_fast_run(fs, 2)
    with unit_of_work(get_engine(fs)) as s:  # a worker beat 10 s ago
        s.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id)
            .values(status="processing", heartbeat_at=utcnow() - timedelta(seconds=10))
        )
    env = lse_env(LSE_DATA_DIR=str(fs.data_dir))
    result = run_lse("eval", "resume", str(run_id), env=env)
    message = " ".join(result.stderr.split())
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(rf"run {run_id} is processing on a live worker \(last heartbeat 1\d s ago\)", message)
    assert "a running `lse serve`" in message and re.search(r"takes it over at [\d:]{8} UTC \(in [45]\d s", message)
    assert f"`lse eval resume {run_id} --wait`" in message
    env["LSE_CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/15"
    listing = run_lse("eval", "resume", env=env)  # every stale run: none, and it says who holds this one
    message = " ".join(listing.stderr.split())
    assert listing.returncode == 0 and "no runs to resume" in message
    assert "an `lse worker` consuming queue 'evaluations'" in message
    assert openai_sandbox.stats.requests_by_endpoint == {}


def test_resume_wait_takes_a_run_over_once_its_heartbeat_goes_stale(settings, openai_sandbox) -> None:
    fs = fast_settings(settings, openai_sandbox, eval_heartbeat_s=0.2, eval_stale_after_s=0.6)
    run_id = make_fast_run(fs, 3)
    with unit_of_work(get_engine(fs)) as s:  # its worker just beat, then died
        s.execute(
            update(EvaluationRun).where(EvaluationRun.id == run_id).values(status="processing", heartbeat_at=utcnow())
        )
    with pytest.raises(ConflictError, match="takes it over at"):
        dispatch.resume_runs(fs, run_id=run_id)
    t0 = time.monotonic()
    outcomes = dispatch.resume_runs(fs, run_id=run_id, wait=True)
    assert [o.status for o in outcomes] == ["completed"] and time.monotonic() - t0 < 5
