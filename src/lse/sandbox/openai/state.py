"""Everything one running sandbox shares between its requests and its owner (the test)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from .batch_world import BatchWorld
from .faults import FaultCounters, OpenAIFaults
from .limits import EndpointLimits
from .stats import SandboxStats


class Sleeper:
    """`asyncio.sleep` that a stopping server can cut short.

    Latency and hang faults sleep for seconds; without this, stopping a sandbox with a hung
    request in flight would wait for uvicorn's graceful-shutdown timeout.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._woken = False

    async def sleep(self, seconds: float) -> bool:
        """Sleep; True if cut short because the server is stopping."""
        if seconds <= 0:
            return self._woken
        with self._lock:
            if self._woken:
                return True
            if self._event is None:
                self._loop = asyncio.get_running_loop()
                self._event = asyncio.Event()
            event = self._event
        waiter = asyncio.ensure_future(event.wait())
        try:
            done, _ = await asyncio.wait({waiter}, timeout=seconds)
        finally:
            waiter.cancel()
        return bool(done)

    def wake_all(self) -> None:
        """End every current and future sleep (called from another thread on stop)."""
        with self._lock:
            self._woken = True
            if self._loop is not None and self._event is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._event.set)


@dataclass
class SandboxState:
    """Attached to the FastAPI app as `app.state.sandbox`."""

    api_key: str
    faults: OpenAIFaults = field(default_factory=OpenAIFaults)
    stats: SandboxStats = field(default_factory=SandboxStats)
    sleeper: Sleeper = field(default_factory=Sleeper)
    limits: dict[str, EndpointLimits] = field(
        default_factory=lambda: {
            "responses": EndpointLimits(follows_rate_fault=True),
            "embeddings": EndpointLimits(follows_rate_fault=False),
            "other": EndpointLimits(follows_rate_fault=False),
        }
    )
    counters: FaultCounters = field(init=False)
    batches: BatchWorld = field(init=False)  # the Files and Batches APIs (batch_world.py)

    def __post_init__(self) -> None:
        self.counters = FaultCounters(self.faults)
        self.batches = BatchWorld(self.faults)
