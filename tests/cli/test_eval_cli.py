"""`lse eval ...` as a user runs it, on the same database the API serves: datasets, configs,
a fast run executed in-process against the OpenAI sandbox, and `show` in every format."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient

from helpers.cli import lse_env, run_lse
from lse.api.app import create_app
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import Organization
from lse.tenancy import create_key


def _ok(proc) -> str:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return proc.stdout


def _one_line_error(proc, code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_dataset_and_config_commands_share_the_api_database(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"))
    golden = tmp_path / "golden.csv"
    golden.write_text("question,answer\nq1,a1\nq2,a2\n,skipped\n", encoding="utf-8")
    t = ("--org", "acme", "--project", "alpha")

    made = json.loads(
        _ok(
            run_lse(
                "eval",
                "dataset",
                "upload",
                str(golden),
                "--name",
                "golden",
                "--duplication-factor",
                "2",
                *t,
                "--json",
                env=env,
            )
        )
    )
    assert (made["total_items"], made["original_items"], made["skipped_rows"]) == (4, 2, 1)
    listed = json.loads(_ok(run_lse("eval", "dataset", "list", *t, "--eligible-for-fast", "--json", env=env)))
    assert [d["dataset_name"] for d in listed] == ["golden"]
    assert "golden" in _ok(run_lse("eval", "dataset", "show", str(made["dataset_id"]), *t, env=env))
    dup = run_lse("eval", "dataset", "upload", str(golden), "--name", "golden", *t, env=env)
    assert "already exists" in _one_line_error(dup, 1)

    cfg = json.loads(
        _ok(
            run_lse(
                "eval",
                "config",
                "create",
                "--name",
                "qa",
                "--model",
                "gpt-4o-mini",
                "--instructions",
                "Be brief.",
                "--temperature",
                "0",
                *t,
                "--json",
                env=env,
            )
        )
    )
    v2 = json.loads(
        _ok(
            run_lse(
                "eval",
                "config",
                "version",
                cfg["id"],
                "--model",
                "gpt-4o-mini",
                "--temperature",
                "0.5",
                "-m",
                "warmer",
                *t,
                "--json",
                env=env,
            )
        )
    )
    assert v2["version"] == 2
    configs = json.loads(_ok(run_lse("eval", "config", "list", *t, "--json", env=env)))
    assert [(c["name"], c["latest_version"]) for c in configs] == [("qa", 2)]

    # the API sees exactly these objects for a key of the same tenant, and nothing for another
    settings = Settings(data_dir=tmp_path / "data")
    key = create_key(settings, "acme", "alpha").api_key
    other = create_key(settings, "acme", "beta").api_key
    with TestClient(create_app(settings)) as c:
        got = c.get("/api/v1/evaluations/datasets", headers={"X-API-KEY": key}).json()["data"]
        assert [d["dataset_id"] for d in got] == [made["dataset_id"]]
        assert c.get(f"/api/v1/configs/{cfg['id']}", headers={"X-API-KEY": key}).json()["data"]["latest_version"] == 2
        assert c.get("/api/v1/evaluations/datasets", headers={"X-API-KEY": other}).json()["data"] == []

    # another tenant's CLI cannot delete it; the owner can
    assert _one_line_error(
        run_lse(
            "eval", "dataset", "delete", str(made["dataset_id"]), "--yes", "--org", "acme", "--project", "beta", env=env
        ),
        1,
    )
    _ok(run_lse("eval", "dataset", "delete", str(made["dataset_id"]), "--yes", *t, env=env))
    with TestClient(create_app(settings)) as c:
        assert c.get("/api/v1/evaluations/datasets", headers={"X-API-KEY": key}).json()["data"] == []


def test_fast_run_in_process_then_show(tmp_path, openai_sandbox):
    env = lse_env(
        LSE_DATA_DIR=str(tmp_path / "data"),
        OPENAI_BASE_URL=openai_sandbox.base_url,
        OPENAI_API_KEY=openai_sandbox.api_key,
    )
    golden = tmp_path / "golden.csv"
    golden.write_text("question,answer,category\nWhat is 2+2?,4,math\nCapital of France?,Paris,geo\n", encoding="utf-8")
    ds = json.loads(
        _ok(
            run_lse(
                "eval", "dataset", "upload", str(golden), "--name", "g", "--duplication-factor", "2", "--json", env=env
            )
        )
    )
    cfg = json.loads(
        _ok(run_lse("eval", "config", "create", "--name", "c", "--model", "gpt-4o-mini", "--json", env=env))
    )

    proc = run_lse(
        "eval",
        "run",
        "--dataset",
        str(ds["dataset_id"]),
        "--config",
        cfg["id"],
        "--version",
        "1",
        "--name",
        "first",
        "--mode",
        "fast",
        "--format",
        "json",
        env=env,
    )
    run = json.loads(_ok(proc))
    assert run["status"] == "completed" and run["run_mode"] == "fast"
    assert run["progress"] == {"total": 4, "succeeded": 4, "failed": 0, "done": 4}
    assert len(run["results"]) == 4 and all(r["output"] for r in run["results"])
    assert "cosine_similarity" in json.dumps(run["score"])

    again = run_lse(
        "eval",
        "run",
        "--dataset",
        str(ds["dataset_id"]),
        "--config",
        cfg["id"],
        "--version",
        "1",
        "--name",
        "first",
        "--mode",
        "fast",
        env=env,
    )
    assert "already exists" in _one_line_error(again, 1)
    batch = run_lse(
        "eval",
        "run",
        "--dataset",
        str(ds["dataset_id"]),
        "--config",
        cfg["id"],
        "--version",
        "1",
        "--name",
        "b",
        "--mode",
        "batch",
        "--no-wait",
        env=env,
    )
    assert batch.returncode == 0 and "is submitted" in batch.stderr, batch.stderr  # the batch engine took it

    table = _ok(run_lse("eval", "show", str(run["id"]), "--results", env=env))
    assert "completed" in table and "What is 2+2?" in table
    rows = list(csv.DictReader(io.StringIO(_ok(run_lse("eval", "show", str(run["id"]), "--format", "csv", env=env)))))
    assert len(rows) == 4 and rows[0]["question"] == "What is 2+2?" and rows[0]["status"] == "succeeded"
    shown = json.loads(_ok(run_lse("eval", "show", str(run["id"]), "--format", "json", env=env)))
    assert shown["results"] is None and shown["status"] == "completed"
    assert "not found" in _one_line_error(run_lse("eval", "show", "999", env=env), 1)


def test_a_typo_in_org_is_an_error_not_a_new_tenant(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"))
    golden = tmp_path / "golden.csv"
    golden.write_text("question,answer\nq,a\n", encoding="utf-8")
    made = run_lse("eval", "dataset", "upload", str(golden), "--name", "g", "--org", "acme", "--project", "p", env=env)
    assert made.returncode == 0, made.stderr
    for args in (
        ("dataset", "list"),
        ("dataset", "show", "1"),
        ("dataset", "delete", "1", "--yes"),
        ("config", "list"),
        ("run", "--dataset", "1", "--config", "x", "--version", "1", "--name", "r"),
    ):
        proc = run_lse("eval", *args, "--org", "acmee", "--project", "p", env=env)
        assert proc.returncode == 1 and "no project 'p' in organization 'acmee'" in proc.stderr, (args, proc.stderr)
    with unit_of_work(get_engine(Settings(data_dir=tmp_path / "data"))) as s:
        assert [o.name for o in s.query(Organization)] == ["acme"]
