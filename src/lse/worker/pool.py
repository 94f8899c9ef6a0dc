"""The embedded backend: a small in-process thread pool started with the API app.

`lse serve` runs fast jobs here when no Celery broker is configured. For as long as it
lives it watches for runs left behind — `processing` with a heartbeat older than
`LSE_EVAL_STALE_AFTER_S` (their worker died, e.g. a killed server) and `pending` for a
while with nobody to run them — every heartbeat interval, as `lse worker` does; a
restarted server therefore finishes its own runs by itself within stale-after plus one
interval. Each job is the same `execute_run` the CLI and Celery use; the claim (a
compare-and-set on the run row) lets exactly one process execute a run.

Batch runs are stepped, not executed: a new one gets its first step (prepare, upload,
create) on the pool at once, and the pool's batch poller (`BatchPoller`) takes every later
step for as long as the server lives.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from lse.evals.fast import execute_run
from lse.evals.liveness import check_stale_after
from lse.evals.pipeline.repository import RunRepository
from lse.settings import Settings
from lse.store.engine import get_engine
from lse.tracing import after_run_completed
from lse.worker.batch_poller import BatchPoller, report, step_batch_runs

log = logging.getLogger(__name__)

RUNS_AT_ONCE = 2
PENDING_ORPHAN_AFTER_S = 10.0


class InProcessPool:
    def __init__(self, settings: Settings, *, workers: int = RUNS_AT_ONCE):
        self.settings = settings
        self.stale_after_s = check_stale_after(settings.eval_stale_after_s, settings.eval_heartbeat_s)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lse-eval-run")
        self._futures: dict[int, Future] = {}
        self._batch_futures: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None
        self.batch_poller = BatchPoller(settings, name="lse-pool-batch-poller")

    def submit(self, run_id: int) -> Future:
        with self._lock:
            current = self._futures.get(run_id)
            if current is not None and not current.done():
                return current
            fut = self._executor.submit(self._run, run_id)
            self._futures[run_id] = fut
            return fut

    def submit_batch(self, run_id: int) -> Future:
        """One step of batch run `run_id` now (its first: prepare and submit); the poller does the rest."""
        with self._lock:
            current = self._batch_futures.get(run_id)
            if current is not None and not current.done():
                return current
            fut = self._executor.submit(self._step_batch, run_id)
            self._batch_futures[run_id] = fut
            return fut

    def _step_batch(self, run_id: int) -> None:
        try:
            report(step_batch_runs(self.settings, [run_id]))
        except Exception:
            log.exception("batch run %s: step raised", run_id)

    def _run(self, run_id: int) -> None:
        try:
            outcome = execute_run(self.settings, run_id)
            if outcome is None:
                log.info("run %s is held by another worker or finished; skipped", run_id)
            elif outcome.status == "completed":
                after_run_completed(self.settings, run_id)  # never raises: a failed export is retried later
        except Exception:
            log.exception("fast run %s raised", run_id)

    def recover(self) -> list[int]:
        """Queue every run left behind by a dead process; returns their ids."""
        repo = RunRepository(get_engine(self.settings), heartbeat_s=self.settings.eval_heartbeat_s)
        ids = repo.resumable_runs(stale_after_s=self.stale_after_s, include_pending_older_than_s=PENDING_ORPHAN_AFTER_S)
        new = [run_id for run_id in ids if self._idle(run_id)]
        for run_id in new:
            self.submit(run_id)
        if new:
            log.warning("resuming %d fast run(s) left behind: %s", len(new), new)
        return ids

    def _idle(self, run_id: int) -> bool:
        with self._lock:
            current = self._futures.get(run_id)
            return current is None or current.done()

    def watch(self) -> threading.Thread:
        """Recover now, then every heartbeat interval until `shutdown` (one daemon thread per pool);
        and start the pool's batch poller."""
        if self._watcher is not None and self._watcher.is_alive():
            return self._watcher

        def loop() -> None:
            while True:
                try:
                    self.recover()
                except Exception:
                    log.exception("could not look for runs to resume")
                if self._closed.wait(self.settings.eval_heartbeat_s):
                    return

        self._watcher = threading.Thread(target=loop, name="lse-pool-recovery", daemon=True)
        self._watcher.start()
        self.batch_poller.start()
        return self._watcher

    def shutdown(self, *, wait: bool = False) -> None:
        self._closed.set()
        self.batch_poller.stop()
        self._executor.shutdown(wait=wait, cancel_futures=True)
