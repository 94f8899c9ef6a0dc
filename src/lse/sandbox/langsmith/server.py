"""Run the sandbox: in a background thread for tests (`LangSmithSandbox`) or in the
foreground for the demo (`serve_forever`). Both serve the same app over real HTTP on
loopback, so the real `langsmith` SDK talks to it exactly as it talks to LangSmith.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable
from typing import Self

import uvicorn

from lse.sandbox.langsmith.apis import ServerApis
from lse.sandbox.langsmith.counters import Counters
from lse.sandbox.langsmith.faults import FaultInjector, Faults
from lse.sandbox.langsmith.gateway import Gateway
from lse.sandbox.langsmith.routes import build_app
from lse.sandbox.langsmith.spec import SandboxSpec
from lse.sandbox.langsmith.transport import ConnectionRegistry, protocol_class
from lse.sandbox.langsmith.world import World


class LangSmithSandbox:
    """A LangSmith-compatible server over a synthetic world.

    `faults` is read on every request, so tests flip it at runtime; assigning a new
    `Faults` also restarts the "every Nth" / "first N" request counting. `apis` (also read
    per request) says which runs query APIs the server speaks (apis.py).
    """

    def __init__(
        self,
        specs: Iterable[SandboxSpec] = (),
        *,
        api_key: str = "sandbox-key",
        host: str = "127.0.0.1",
        port: int = 0,
        world: World | None = None,
        apis: ServerApis | None = None,
    ) -> None:
        self.world = world if world is not None else World.from_specs(specs)
        self.apis = apis or ServerApis()
        self.api_key = api_key
        self.host = host
        self.port = port
        self.counters = Counters()
        self._faults = Faults()
        self._injector = FaultInjector()
        self._connections = ConnectionRegistry()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ---- faults ---------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._faults = value
        self._injector.reset()

    def clear_faults(self) -> None:
        """Back to a healthy server."""
        self.faults = Faults()

    # ---- lifecycle ------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started; call start() first")
        return f"http://{self.host}:{self.port}"

    def asgi_app(self) -> Gateway:
        return Gateway(
            build_app(self.world, lambda: self.apis),
            api_key=self.api_key,
            counters=self.counters,
            injector=self._injector,
            faults=lambda: self._faults,
            connections=self._connections,
        )

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.asgi_app(),
            host=self.host,
            port=self.port,
            http=protocol_class(self._connections),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
        )

    def start(self, timeout_s: float = 10.0) -> Self:
        """Start serving in a daemon thread; returns once the port accepts connections."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already started")
        server = uvicorn.Server(self._config())
        thread = threading.Thread(target=server.run, name="langsmith-sandbox", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = self._thread = None
                raise RuntimeError(f"the LangSmith sandbox did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError("the LangSmith sandbox did not stop in time")
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    specs: Iterable[SandboxSpec], host: str = "127.0.0.1", port: int = 8123, api_key: str = "sandbox-key"
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C), for `lse sandbox langsmith`."""
    sandbox = LangSmithSandbox(specs, api_key=api_key, host=host, port=port)
    server = uvicorn.Server(sandbox._config())
    print(
        f"LangSmith sandbox on http://{host}:{port} (x-api-key: {api_key}); "
        f"{len(sandbox.world.runs)} runs, {len(sandbox.world.feedback)} feedback records",
        file=sys.stderr,
        flush=True,
    )
    server.run()
