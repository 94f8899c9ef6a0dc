"""Builders for the API tests: a config blob, CSV bytes, an `Api` wrapper with two tenants' keys,
and waits for runs the real pool executes."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun

BLOB = {
    "completion": {
        "provider": "openai",
        "type": "text",
        "params": {"model": "gpt-4o-mini", "instructions": "Answer briefly.", "temperature": 0.2},
    }
}


def csv_bytes(n: int, header: str = "question,answer,category") -> bytes:
    lines = [header] + [f"What is {i}?,It is {i}.,cat{i % 3}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def wait_for_runs_to_end(settings: Settings, timeout: float = 30.0) -> None:
    """Until no run is pending or processing: the pool is idle before its database and sandbox go."""
    deadline = time.monotonic() + timeout
    while True:
        with unit_of_work(get_engine(settings)) as s:
            live = s.scalar(select(func.count()).where(EvaluationRun.status.in_(("pending", "processing"))))
        if not live:
            return
        assert time.monotonic() < deadline, f"{live} run(s) still pending or processing after {timeout:g} s"
        time.sleep(0.05)


@dataclass
class Api:
    client: TestClient
    settings: Settings
    key: str  # acme/alpha
    other_key: str  # acme/beta

    def h(self, key: str | None = None) -> dict[str, str]:
        return {"X-API-KEY": key or self.key}

    def upload(
        self,
        name: str,
        data: bytes | None = None,
        *,
        key: str | None = None,
        filename: str = "golden.csv",
        content_type: str = "text/csv",
        **form,
    ):
        form = {"dataset_name": name, **{k: str(v) for k, v in form.items()}}
        return self.client.post(
            "/api/v1/evaluations/datasets",
            headers=self.h(key),
            files={"file": (filename, csv_bytes(3) if data is None else data, content_type)},
            data=form,
        )

    def dataset(self, name: str, n: int = 3, **form) -> dict:
        r = self.upload(name, csv_bytes(n), **form)
        assert r.status_code == 200, r.json()
        return r.json()["data"]

    def config(self, name: str, blob: dict | None = None, key: str | None = None) -> dict:
        r = self.client.post(
            "/api/v1/configs",
            headers=self.h(key),
            json={"name": name, "config_blob": blob or BLOB, "commit_message": "v1"},
        )
        assert r.status_code == 201, r.json()
        return r.json()["data"]

    def start(
        self,
        name: str,
        dataset_id: int,
        config_id: str,
        version: int = 1,
        mode: str | None = "fast",
        key: str | None = None,
    ):
        body = {"experiment_name": name, "dataset_id": dataset_id, "config_id": config_id, "config_version": version}
        if mode is not None:
            body["run_mode"] = mode
        return self.client.post("/api/v1/evaluations", headers=self.h(key), json=body)

    def wait_finished(self, run_id: int, timeout: float = 30.0, key: str | None = None) -> dict:
        """Poll GET /evaluations/{id} until the run is completed or failed; return it with results."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.client.get(
                f"/api/v1/evaluations/{run_id}", headers=self.h(key), params={"include_results": "true"}
            )
            run = r.json()["data"]
            if run["status"] in ("completed", "failed"):
                return run
            assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {timeout:g} s"
            time.sleep(0.05)
