"""Shared steps of the Kaapi-conformance tests: what a Kaapi client does, over HTTP."""

from __future__ import annotations

import time
import uuid

import httpx

BLOB = {"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini", "temperature": 0.2}}}


def name(prefix: str = "x") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def upload(c: httpx.Client, csv: bytes, dataset_name: str | None = None, **form) -> httpx.Response:
    ctype = form.pop("content_type", None) or "text/csv"
    data = {"dataset_name": dataset_name or name("ds"), **{k: str(v) for k, v in form.items()}}
    return c.post("/api/v1/evaluations/datasets", files={"file": ("golden.csv", csv, ctype)}, data=data)


def config(c: httpx.Client, blob: dict | None = None, config_name: str | None = None) -> dict:
    r = c.post("/api/v1/configs/", json={"name": config_name or name("cfg"), "config_blob": blob or BLOB})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def start(c: httpx.Client, dataset_id: int, config_id: str, run_name: str | None = None, **extra) -> httpx.Response:
    body = {
        "experiment_name": run_name or name("run"),
        "dataset_id": dataset_id,
        "config_id": config_id,
        "config_version": 1,
        "run_mode": "fast",
        **extra,
    }
    return c.post("/api/v1/evaluations", json=body)


def wait(c: httpx.Client, run_id: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = c.get(f"/api/v1/evaluations/{run_id}").json()["data"]
        if run["status"] in ("completed", "failed"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def completed_run(c: httpx.Client, csv: bytes, duplication_factor: int = 1, blob: dict | None = None) -> dict:
    ds = upload(c, csv, duplication_factor=duplication_factor).json()["data"]
    cfg = config(c, blob)
    started = start(c, ds["dataset_id"], cfg["id"])
    assert started.status_code == 200, started.text
    run = wait(c, started.json()["data"]["id"])
    assert run["status"] == "completed", run
    return run
