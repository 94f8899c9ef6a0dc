"""The embedded backend: a small in-process thread pool started with the API app.

`lse serve` runs fast jobs here when no Celery broker is configured. On start it picks up
runs a dead process left behind (processing with a stale heartbeat, or pending for a
while with nobody to run them). Each job is the same `execute_run` the CLI and Celery use.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from lse.evals.fast import execute_run
from lse.evals.fast.repository import FastRunRepository
from lse.evals.liveness import STALE_AFTER_S
from lse.settings import Settings
from lse.store.engine import get_engine

log = logging.getLogger(__name__)

RUNS_AT_ONCE = 2
PENDING_ORPHAN_AFTER_S = 10.0


class InProcessPool:
    def __init__(self, settings: Settings, *, workers: int = RUNS_AT_ONCE):
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lse-eval-run")
        self._futures: dict[int, Future] = {}
        self._lock = threading.Lock()

    def submit(self, run_id: int) -> Future:
        with self._lock:
            current = self._futures.get(run_id)
            if current is not None and not current.done():
                return current
            fut = self._executor.submit(self._run, run_id)
            self._futures[run_id] = fut
            return fut

    def _run(self, run_id: int) -> None:
        try:
            outcome = execute_run(self.settings, run_id)
            if outcome is None:
                log.info("run %s is held by another worker or finished; skipped", run_id)
        except Exception:
            log.exception("fast run %s raised", run_id)

    def recover(self, *, stale_after_s: float = STALE_AFTER_S) -> list[int]:
        """Queue every run left behind by a dead process; returns their ids."""
        repo = FastRunRepository(get_engine(self.settings))
        ids = repo.resumable_runs(stale_after_s=stale_after_s, include_pending_older_than_s=PENDING_ORPHAN_AFTER_S)
        for run_id in ids:
            self.submit(run_id)
        return ids

    def shutdown(self, *, wait: bool = False) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=True)
