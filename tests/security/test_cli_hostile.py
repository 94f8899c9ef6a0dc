"""The operator's terminal and files are safe from tenant text: tables escape Rich markup
and terminal control codes, CSV exports neutralise formulas (OWASP), `eval dataset upload`
reads only regular files and at most the limit, and everything lse writes under
LSE_DATA_DIR is private (files 0600, folders 0700). Through the real `lse` command.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import time
from datetime import date

from helpers.cli import lse_env, run_lse
from lse.sandbox.langsmith import SandboxSpec

FORMULAS = ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example","click")']


def _wait(c, run_id: int) -> dict:
    deadline = time.monotonic() + 30
    while True:
        run = c.get(f"/api/v1/evaluations/{run_id}").json()["data"]
        if run["status"] in ("completed", "failed"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def _formula_run(live_lse, key: str) -> int:
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["question", "answer"])
    for i, f in enumerate(FORMULAS):
        writer.writerow([f"{f} question {i}", f"{f}"])
    with live_lse.client(key) as c:
        ds = c.post(
            "/api/v1/evaluations/datasets",
            files={"file": ("f.csv", rows.getvalue().encode(), "text/csv")},
            data={"dataset_name": "formulas"},
        ).json()["data"]
        blob = {"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini"}}}
        cfg = c.post("/api/v1/configs", json={"name": "f", "config_blob": blob}).json()["data"]
        body = {
            "experiment_name": "f",
            "dataset_id": ds["dataset_id"],
            "config_id": cfg["id"],
            "config_version": 1,
            "run_mode": "fast",
        }
        run_id = c.post("/api/v1/evaluations", json=body).json()["data"]["id"]
        assert _wait(c, run_id)["status"] == "completed"
    return run_id


def _assert_neutralised(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(FORMULAS)
    for row, formula in zip(rows, FORMULAS, strict=True):
        assert row["question"].startswith("'" + formula[:2]), row
        assert row["expected_answer"] == "'" + formula
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)


def test_csv_exports_neutralise_formulas(live_lse):
    key = live_lse.new_key()
    run_id = _formula_run(live_lse, key)
    proc = run_lse("eval", "show", str(run_id), "--results", "--format", "csv", env=live_lse.env)
    assert proc.returncode == 0, proc.stderr
    _assert_neutralised(proc.stdout)
    with live_lse.client(key) as c:
        r = c.get(f"/api/v1/evaluations/{run_id}/results.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["x-content-type-options"] == "nosniff"
        _assert_neutralised(r.text)


def test_tables_escape_markup_and_terminal_codes(live_lse):
    key = live_lse.new_key(org="tables")
    evil = "a[/]b [bold red]x[/] \x1b]0;pwned\x07 \x1b[2J\u202eevil"
    with live_lse.client(key) as c:
        blob = {"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini"}}}
        assert c.post("/api/v1/configs", json={"name": evil, "config_blob": blob}).status_code == 201
        rows = "question,answer\n" + f'"{evil} q",ok\n'
        ds = c.post(
            "/api/v1/evaluations/datasets",
            files={"file": ("e.csv", rows.encode(), "text/csv")},
            data={"dataset_name": "evil"},
        ).json()["data"]
        cfg = c.get("/api/v1/configs").json()["data"][0]
        body = {
            "experiment_name": evil,
            "dataset_id": ds["dataset_id"],
            "config_id": cfg["id"],
            "config_version": 1,
            "run_mode": "fast",
        }
        run_id = c.post("/api/v1/evaluations", json=body).json()["data"]["id"]
        _wait(c, run_id)
    tenant = ("--org", "tables", "--project", "p")
    for args in (
        ("eval", "config", "list", *tenant),
        ("eval", "show", str(run_id), "--results"),
        ("eval", "dataset", "list", *tenant),
    ):
        proc = run_lse(*args, env=live_lse.env)
        assert proc.returncode == 0, (args, proc.stderr)
        out = proc.stdout
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, (args, out)
        if args[1] != "dataset":
            assert "a[/]b [bold red]x[/]" in out and "\\x1b]0;pwned\\x07" in out and "\\u202e" in out, (args, out)


def test_upload_reads_regular_files_only_and_at_most_the_limit(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"))
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    for path in (zero, pipe, tmp_path):
        proc = run_lse("eval", "dataset", "upload", str(path), "--name", "x", env=env, timeout=20)
        assert proc.returncode == 2, (path, proc.stderr)
        assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as fh:
        fh.write(b"question,answer\n")
        fh.truncate(3 * 1024**3)  # 3 GB, sparse: only the first 1 MB + 1 byte may be read
    proc = run_lse("eval", "dataset", "upload", str(huge), "--name", "x", env=env, timeout=20)
    assert proc.returncode == 1 and "larger than 1024 KB" in proc.stderr, proc.stderr
    ok = tmp_path / "ok.csv"
    ok.write_text("question,answer\nq,a\n")
    link = tmp_path / "link.csv"
    link.symlink_to(ok)  # a link to a regular file is a regular file
    assert run_lse("eval", "dataset", "upload", str(link), "--name", "ok", env=env).returncode == 0


def test_files_under_the_data_dir_are_private(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([SandboxSpec(days=[date(2026, 11, 20)], traces_per_day=3, hard_cases=False)])
    data = tmp_path / "data"
    env = lse_env(
        LSE_DATA_DIR=str(data), LANGSMITH_ENDPOINT=sb.url, LANGSMITH_API_KEY="sandbox-key", LSE_REQUEST_DELAY_MS="0"
    )
    csv_file = tmp_path / "g.csv"
    csv_file.write_text("question,answer\nq,a\n")
    for args in (
        ("admin", "create-key", "--org", "o", "--project", "p"),
        ("eval", "dataset", "upload", str(csv_file), "--name", "g", "--org", "o", "--project", "p"),
        ("archive", "full-sweep", "--project", "demo-project", "--date", "2026-11-20"),
    ):
        proc = run_lse(*args, env=env)
        assert proc.returncode == 0, (args, proc.stderr)
    seen = {"files": 0, "dirs": 0}
    for root, dirs, files in os.walk(data):
        for d in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode) == 0o700, os.path.join(root, d)
            seen["dirs"] += 1
        for f in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode) == 0o600, os.path.join(root, f)
            seen["files"] += 1
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert seen["files"] >= 4 and seen["dirs"] >= 4  # database, CSV object, archive files and their folders


def test_an_empty_data_dir_is_an_error(tmp_path):
    proc = run_lse("eval", "dataset", "list", env=lse_env(LSE_DATA_DIR=""), timeout=30)
    assert proc.returncode == 1 and "LSE_DATA_DIR is empty" in proc.stderr, proc.stderr
    proc = run_lse("eval", "dataset", "list", env=lse_env(LSE_DATA_DIR="   "), timeout=30)
    assert proc.returncode == 1 and "LSE_DATA_DIR" in proc.stderr
    assert not any(p.name.startswith("lse.db") for p in tmp_path.iterdir())  # nothing made in the working dir
