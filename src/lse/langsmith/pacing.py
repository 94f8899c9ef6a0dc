"""One client-wide pacer: at least `interval` seconds between the starts of two requests.

Shared by every thread that talks to LangSmith through one `LangSmithApi`, so the
configured delay (LSE_REQUEST_DELAY_MS / --delay-ms) holds for the whole process.
"""

from __future__ import annotations

import threading
import time


class Pacer:
    def __init__(self, interval_s: float):
        self.interval_s = max(0.0, interval_s)
        self._lock = threading.Lock()
        self._next_at = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at)
            self._next_at = start + self.interval_s
        delay = start - now
        if delay > 0:
            time.sleep(delay)

    def hold(self, seconds: float) -> None:
        """Push the next slot back (a 429 asked everyone to wait)."""
        with self._lock:
            self._next_at = max(self._next_at, time.monotonic() + seconds)
