"""A run's pulse while a worker holds it: `heartbeat_at` refreshed every few seconds, and the
user's cancel noticed on the same beat.

A run whose heartbeat goes stale was left by a dead worker and is claimed again by whoever
watches (`lse serve`, `lse worker`, `lse eval resume`). The beat also reads the run's
`cancel_requested_at`: when a user cancels, `on_cancel` runs once (the run's stop signal),
so the workers stop between calls and the run ends `cancelled` with what it finished.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Self

from lse.evals.pipeline.repository import RunRepository

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, repo: RunRepository, run_id: int, every_s: float, on_cancel: Callable[[], None] | None = None):
        self._repo, self._run_id, self._every = repo, run_id, every_s
        self.on_cancel = on_cancel
        self._cancel_seen = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lse-heartbeat-{run_id}", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                cancelled = self._repo.heartbeat(self._run_id)
            except Exception:
                log.warning("heartbeat for run %s failed", self._run_id, exc_info=True)
                continue
            if cancelled and not self._cancel_seen and self.on_cancel is not None:
                self._cancel_seen = True
                self.on_cancel()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
