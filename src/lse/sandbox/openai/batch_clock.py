"""The clock the sandbox's Batch API runs on: real time scaled, plus whatever a test advanced.

Batches take minutes to hours at OpenAI; tests cannot wait and must not sleep. Every batch
timestamp and transition is computed from `now()`, lazily, when someone looks (a request or
`BatchWorld.advance`), so a test that freezes the clock and advances it by 86,400 s sees a
day pass at once, deterministically. The demo runs on real time (`time_scale=1`).
"""

from __future__ import annotations

import threading
import time


class SandboxClock:
    """Unix seconds: `origin + elapsed_real * time_scale + advanced`. Thread-safe."""

    def __init__(self, time_scale: float = 1.0, start: float | None = None) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self._lock = threading.Lock()
        self._origin = time.time() if start is None else float(start)
        self._mono = time.monotonic()
        self._scale = float(time_scale)

    def now(self) -> float:
        with self._lock:
            return self._origin + (time.monotonic() - self._mono) * self._scale

    @property
    def time_scale(self) -> float:
        with self._lock:
            return self._scale

    def set_time_scale(self, time_scale: float) -> None:
        """Change the speed from now on, without a jump: 0 freezes, 1 is real time."""
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        with self._lock:
            mono = time.monotonic()
            self._origin += (mono - self._mono) * self._scale
            self._mono = mono
            self._scale = float(time_scale)

    def freeze(self) -> None:
        self.set_time_scale(0.0)

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds` (never back); return the new now."""
        if seconds < 0:
            raise ValueError("the sandbox clock never goes back")
        with self._lock:
            self._origin += seconds
        return self.now()
