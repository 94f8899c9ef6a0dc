"""An HTTP client on the real app, two tenants' keys, and builders for configs, datasets, runs.

Nothing of the worker contract is swapped: fast runs started through the API execute on
the real in-process pool against an OpenAI sandbox on loopback, and batch runs are polled
by the pool's batch poller (every 0.2 s here). Teardown waits for every started run to end,
so no run outlives its test's database or sandbox.
"""

from __future__ import annotations

import threading
import time

import pytest
from api_builders import Api, wait_for_runs_to_end
from fastapi.testclient import TestClient

from helpers.fast_eval import fast_settings
from lse.api.app import create_app
from lse.settings import Settings
from lse.tenancy import create_key


@pytest.fixture
def api_settings(db_settings: Settings, openai_sandbox) -> Settings:
    """The parametrised database, with the OpenAI endpoint pointed at a fresh sandbox."""
    return fast_settings(db_settings, openai_sandbox, eval_batch_poll_s=0.2)


@pytest.fixture
def api(api_settings: Settings):
    with TestClient(create_app(api_settings)) as client:
        alpha = create_key(api_settings, "acme", "alpha")
        beta = create_key(api_settings, "acme", "beta")
        yield Api(client, api_settings, alpha.api_key, beta.api_key)
        wait_for_runs_to_end(api_settings)


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
    wait_for_runs_to_end(api.settings)
    server.should_exit = True
    thread.join(timeout=10)
