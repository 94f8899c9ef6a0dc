"""The background exporter: a daemon thread running `export_pending` every
`LSE_TRACING_INTERVAL_S`, for `lse serve`'s in-process pool and for `lse worker`.

It does nothing (and costs one query a pass) where no target is configured, and a pass
that fails is logged and followed by the next one: exporting can never stop a run.
"""

from __future__ import annotations

import logging
import threading
from typing import Self

from lse.settings import Settings
from lse.tracing.service import export_pending
from lse.tracing.targets import deployment_targets

log = logging.getLogger(__name__)


class TracingWatcher:
    def __init__(self, settings: Settings, *, interval_s: float | None = None) -> None:
        self.settings = settings
        self.interval_s = interval_s if interval_s is not None else settings.tracing_interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def run_once(self) -> None:
        if not deployment_targets(self.settings).configured():
            return
        try:
            export_pending(self.settings)
        except Exception:
            log.exception("tracing export pass failed; the next pass retries")
        self.passes += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="lse-tracing-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
