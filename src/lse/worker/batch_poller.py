"""The batch poller of a long-lived process (`lse serve`'s pool, `lse worker`): a daemon
thread that calls `advance_batch_runs` every tick for as long as the process lives.

A tick is short (`min(LSE_EVAL_BATCH_POLL_S, LSE_EVAL_HEARTBEAT_S)`) and costs one query
when nothing is due; the batches themselves say when they next need a poll, so the cadence
(slower for old batches) is theirs, not the tick's. Any number of processes may poll at
once: claims on runs and leases on batches let exactly one act on each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from lse.evals.batch.pollers import advance_batch_runs, tick_s
from lse.evals.batch.run_step import ERROR, FINISHED, RunStep
from lse.evals.pipeline.status import RunStatus
from lse.settings import Settings
from lse.tracing import after_run_completed

log = logging.getLogger(__name__)

QUIET_S = 300.0  # the same failure is logged again after this long


def report(steps: list[RunStep]) -> None:
    for step in steps:
        if step.action == FINISHED:
            log.warning("batch run %s ended %s%s", step.run_id, step.status, f": {step.note}" if step.note else "")
        elif step.action == ERROR:
            log.warning("batch run %s: step failed (tried again at the next one): %s", step.run_id, step.note)


def step_batch_runs(settings: Settings, run_ids: Sequence[int] | None = None) -> list[RunStep]:
    """One step of every batch run due (or of `run_ids`); a run this step completed is
    exported to the tracing targets at once (never raises: a failed export is retried later)."""
    steps = advance_batch_runs(settings, run_ids=run_ids)
    for step in steps:
        if step.action == FINISHED and step.status == RunStatus.COMPLETED:
            after_run_completed(settings, step.run_id)
    return steps


class BatchPoller:
    def __init__(self, settings: Settings, *, name: str = "lse-batch-poller"):
        self.settings = settings
        self.name = name
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> list[RunStep]:
        steps = step_batch_runs(self.settings)
        report(steps)
        return steps

    def start(self) -> threading.Thread:
        """Poll now, then every tick until `stop` (one thread per poller)."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread

        def loop() -> None:
            last: tuple[str, float] = ("", 0.0)
            while True:
                try:
                    self.poll_once()
                except Exception as exc:  # noqa: BLE001 -- a poller outlives any one failed pass
                    said = f"{type(exc).__name__}: {exc}"
                    if said != last[0] or time.monotonic() - last[1] > QUIET_S:  # not once per tick
                        log.warning(
                            "batch poll pass failed (tried again every %.1f s): %s", tick_s(self.settings), said
                        )
                        last = (said, time.monotonic())
                if self._closed.wait(tick_s(self.settings)):
                    return

        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._closed.set()
