"""One seeded world per test session (see world.py), a live server on it, one browser.

The world is built once (about two seconds) and shared by the HTTP-level and the browser
tests; tests that add objects give them names of their own, so no test depends on the
order others ran in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser import chromium_missing, launch
from fastapi.testclient import TestClient
from live_server import live_server
from world import World, build_world

from lse.api.app import create_app
from lse.sandbox.openai import OpenAISandbox
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun

IN_CI = __import__("os").environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def web_openai() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(api_key="sk-sandbox") as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, web_openai: OpenAISandbox) -> World:
    return build_world(tmp_path_factory.mktemp("viewer"), web_openai.base_url, web_openai.api_key)


def wait_for_runs(world: World, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while True:
        with unit_of_work(get_engine(world.settings)) as s:
            live = s.query(EvaluationRun).filter(EvaluationRun.status.in_(("pending", "processing"))).count()
        if not live:
            return
        assert time.monotonic() < deadline, f"{live} run(s) still running after {timeout:g} s"
        time.sleep(0.05)


@pytest.fixture(scope="session")
def server_url(world: World) -> Iterator[str]:
    with live_server(world.settings) as url:
        yield url
        wait_for_runs(world)


@pytest.fixture(scope="session")
def browser():
    reason = chromium_missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


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


@pytest.fixture
def app_client(world: World) -> Iterator[TestClient]:
    """A client on the real app (no lifespan: runs it starts go to the lazily made pool)."""
    with_client = TestClient(create_app(world.settings), base_url="http://testserver")
    yield with_client
    with_client.close()
    wait_for_runs(world)
