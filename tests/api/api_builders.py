"""Builders for the API tests: a config blob, CSV bytes, and an `Api` wrapper with two tenants' keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from lse.settings import Settings

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


@dataclass
class Api:
    client: TestClient
    settings: Settings
    key: str  # acme/alpha
    other_key: str  # acme/beta
    submitted: list[int] = field(default_factory=list)

    def h(self, key: str | None = None) -> dict[str, str]:
        return {"X-API-KEY": key or self.key}

    def upload(self, name: str, data: bytes | None = None, *, key: str | None = None, filename: str = "golden.csv",
               content_type: str = "text/csv", **form):
        form = {"dataset_name": name, **{k: str(v) for k, v in form.items()}}
        return self.client.post(
            "/api/v1/evaluations/datasets",
            headers=self.h(key),
            files={"file": (filename, csv_bytes(3) if data is None else data, content_type)},
            data=form,
        )

    def dataset(self, name: str, n: int = 3, **form) -> dict:
        r = self.upload(name, csv_bytes(n), **form)
        assert r.status_code == 201, r.json()
        return r.json()["data"]

    def config(self, name: str, blob: dict | None = None, key: str | None = None) -> dict:
        r = self.client.post(
            "/api/v1/configs", headers=self.h(key), json={"name": name, "config_blob": blob or BLOB, "commit_message": "v1"}
        )
        assert r.status_code == 201, r.json()
        return r.json()["data"]

    def start(self, name: str, dataset_id: int, config_id: str, version: int = 1, mode: str | None = "batch",
              key: str | None = None):
        body = {"experiment_name": name, "dataset_id": dataset_id, "config_id": config_id, "config_version": version}
        if mode is not None:
            body["run_mode"] = mode
        return self.client.post("/api/v1/evaluations", headers=self.h(key), json=body)
