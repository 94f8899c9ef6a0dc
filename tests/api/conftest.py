"""An HTTP client on the real app, two tenants' keys, and builders for configs, datasets, runs.

The worker contract is swapped for a recorder: every mode is "available" and submitted
run ids are collected, so these tests pin the API's own behaviour, not an engine's.
"""

from __future__ import annotations

import threading
import time

import pytest
from api_builders import Api
from fastapi.testclient import TestClient

from lse.api.app import create_app
from lse.settings import Settings
from lse.tenancy import create_key
from lse.worker import dispatch


@pytest.fixture
def all_modes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    submitted: list[int] = []
    monkeypatch.setattr(dispatch, "available_modes", lambda settings: {"batch", "fast"})
    monkeypatch.setattr(dispatch, "submit_run", lambda settings, run_id: submitted.append(run_id))
    return submitted


@pytest.fixture
def api(db_settings: Settings, all_modes: list[int]):
    with TestClient(create_app(db_settings)) as client:
        alpha = create_key(db_settings, "acme", "alpha")
        beta = create_key(db_settings, "acme", "beta")
        yield Api(client, db_settings, alpha.api_key, beta.api_key, all_modes)


@pytest.fixture
def live_url(api: Api):
    """The same app served by a real uvicorn on loopback, for truly concurrent requests."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_app(api.settings), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not (server.started and server.servers):
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
