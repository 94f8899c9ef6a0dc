"""Run the sandbox: in a background thread for tests (`LangfuseSandbox`), or in the
foreground (`serve_forever`, for `lse sandbox langfuse`).

`stop()` then `start()` keeps the data and the port, so a test can take the target down
(connection refused, as a real outage looks) and bring the same server back.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Self

import uvicorn

from lse.sandbox.langfuse.app import build_app
from lse.sandbox.langfuse.state import LangfuseFaults, LangfuseState

STARTUP_TIMEOUT_S = 10.0


def _config(state: LangfuseState, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(build_app(state), host=host, port=port, lifespan="off", log_level="warning", access_log=False)


class LangfuseSandbox:
    """A Langfuse-compatible server on loopback; `url` is what `Langfuse(base_url=...)` takes."""

    def __init__(
        self,
        public_key: str = "pk-lf-sandbox",
        secret_key: str = "sk-lf-sandbox",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.public_key = public_key
        self.secret_key = secret_key
        self.host = host
        self.port = port
        self.state = LangfuseState(public_key, secret_key)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> LangfuseFaults:
        return self.state.faults

    @faults.setter
    def faults(self, value: LangfuseFaults) -> None:
        self.state.faults = value

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Langfuse sandbox is not started; call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Serve in a daemon thread (port 0 picks a free one, kept across restarts)."""
        if self._server is not None:
            raise RuntimeError("the Langfuse sandbox is already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(_config(self.state, self.host, self.port))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"langfuse-sandbox-{self.port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = self._thread = None
                sock.close()
                raise RuntimeError(f"the Langfuse sandbox did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError("the Langfuse sandbox did not stop in time")
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    host: str = "127.0.0.1", port: int = 3000, public_key: str = "pk-lf-sandbox", secret_key: str = "sk-lf-sandbox"
) -> None:
    """Serve in the foreground until interrupted."""
    state = LangfuseState(public_key, secret_key)
    print(
        f"Langfuse sandbox on http://{host}:{port} (public key {public_key}, secret key {secret_key})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.Server(_config(state, host, port)).run()
