"""`lse admin create-key` as a user runs it: key printed once, stored hashed, usable over HTTP."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from helpers.cli import lse_env, run_lse
from lse.api.app import create_app
from lse.settings import Settings


def test_create_key_json_and_plain(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"))
    proc = run_lse("admin", "create-key", "--org", "acme", "--project", "alpha", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    assert set(made) == {"api_key", "organization", "project"}
    assert (made["organization"], made["project"]) == ("acme", "alpha")

    plain = run_lse("admin", "create-key", "--org", "acme", "--project", "alpha", env=env)
    assert plain.returncode == 0 and plain.stdout.strip().startswith("lse_") and "shown only now" in plain.stderr
    assert made["api_key"] not in (tmp_path / "data" / "lse.db").read_bytes().decode("latin-1")

    settings = Settings(data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as c:
        for key in (made["api_key"], plain.stdout.strip()):
            assert c.get("/api/v1/configs", headers={"X-API-KEY": key}).status_code == 200

    usage = run_lse("admin", "create-key", "--org", "acme", env=env)
    assert usage.returncode == 2 and "project" in usage.stderr
