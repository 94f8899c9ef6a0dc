"""One seeded world per test session (see world.py), a live server on it, one browser.

The world is built once (about two seconds) and shared by the HTTP-level and the browser
tests; tests that add objects give them names of their own, so no test depends on the
order others ran in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from browser import chromium_missing, launch
from fastapi.testclient import TestClient
from live_server import live_server
from viewer_client import wait_for_runs
from world import World, build_world

from lse.api.app import create_app
from lse.sandbox.openai import OpenAISandbox
from lse.worker import dispatch

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def web_openai() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(api_key="sk-sandbox") as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, web_openai: OpenAISandbox) -> World:
    return build_world(tmp_path_factory.mktemp("viewer"), web_openai.base_url, web_openai.api_key)


@pytest.fixture(scope="module")
def server_url(world: World) -> Iterator[str]:
    """Module-scoped: the app's lifespan owns the process-wide evaluation pool, which must
    be stopped (with this world's settings) before other tests start their own."""
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


@pytest.fixture
def app_client(world: World) -> Iterator[TestClient]:
    """A client on the real app (no lifespan: runs it starts go to the lazily made pool)."""
    with_client = TestClient(create_app(world.settings), base_url="http://testserver")
    yield with_client
    with_client.close()
    wait_for_runs(world)
    dispatch.stop_background()  # the pool a started run made lazily holds this world's settings
