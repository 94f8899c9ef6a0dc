"""Helpers for the HTTP-level viewer tests: sign in through the form, read the CSRF token,
wait until no run is left running."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient
from world import World

from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun


def wait_for_runs(world: World, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with unit_of_work(get_engine(world.settings)) as s:
            live = s.query(EvaluationRun).filter(EvaluationRun.status.in_(("pending", "processing"))).count()
        if not live:
            return
        assert time.monotonic() < deadline, f"{live} run(s) still running after {timeout:g} s"
        time.sleep(0.05)


def sign_in(client: TestClient, key: str) -> TestClient:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    r = client.post("/login", data={"api_key": key, "csrf_token": token.group(1), "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def csrf_of(client: TestClient) -> str:
    page = client.get("/evaluations")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return token.group(1)
