"""Running the sandbox: in a background thread for tests (`OpenAISandbox`), or in the
foreground as a standalone process (`serve_forever`).

uvicorn serves async handlers on one event loop, so latency faults (asyncio sleeps) overlap:
fifty calls with one second of latency finish in about one second, and the in-flight count
the stats report is the true concurrency a client achieved.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Self

import uvicorn

from .app import build_app
from .batch_world import BatchWorld
from .faults import OpenAIFaults
from .state import SandboxState, Sleeper
from .stats import SandboxStats

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 10.0


def _config(state: SandboxState, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        build_app(state),
        host=host,
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        backlog=4096,
    )


class OpenAISandbox:
    """A local OpenAI-compatible server on loopback; `base_url` goes to `openai.OpenAI(base_url=...)`."""

    def __init__(
        self,
        api_key: str = "sk-sandbox",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: OpenAIFaults | None = None,
    ) -> None:
        self.api_key = api_key
        self.host = host
        self._requested_port = port
        self._state = SandboxState(api_key=api_key, faults=faults or OpenAIFaults())
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def faults(self) -> OpenAIFaults:
        return self._state.faults

    @property
    def stats(self) -> SandboxStats:
        return self._state.stats

    @property
    def batches(self) -> BatchWorld:
        """The Files and Batches APIs: `clock`, `faults`, `stats`, `advance(seconds)`."""
        return self._state.batches

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("OpenAISandbox is not started")
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> Self:
        """Bind (port 0 picks a free one), serve in a daemon thread, return once accepting."""
        if self._thread is not None:
            raise RuntimeError("OpenAISandbox already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        self._state.sleeper = Sleeper()  # a stopped sandbox's sleeper stays woken; restarts need a fresh one
        self._server = uvicorn.Server(_config(self._state, self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"openai-sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive():
                sock.close()
                raise RuntimeError(f"OpenAI sandbox failed to start on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"OpenAI sandbox did not start within {STARTUP_TIMEOUT_S}s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Cut short any latency or hang sleeps, then shut the server down and join its thread."""
        if self._server is None or self._thread is None:
            return
        self._state.sleeper.wake_all()
        self._server.should_exit = True
        self._thread.join(SHUTDOWN_TIMEOUT_S)
        if self._thread.is_alive():
            raise RuntimeError("OpenAI sandbox did not stop in time")
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc_info: object) -> None:
        self.stop()


def serve_forever(host: str = "127.0.0.1", port: int = 8001, api_key: str = "sk-sandbox") -> None:
    """Serve in the foreground until interrupted (for `lse demo` or `python -m lse.sandbox.openai`)."""
    uvicorn.Server(_config(SandboxState(api_key=api_key), host, port)).run()
