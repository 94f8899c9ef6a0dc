"""Write a day's batches on several connections at once, never two batches of one run.

A load is bound by two CPUs' worth of work: Python parsing and encoding the lines, and
the database parsing, compressing and indexing the rows. One connection leaves the
database with one backend, so all of its work waits on one core. Lanes give it more:
every run goes to the lane of its shard (`Prepared.shard % lanes`), each lane writes
its batches one after another on its own connection, in file order, and the lanes run
side by side. Because a run's lines all go to one lane, a later line of a run always
merges with what its earlier ones wrote, exactly as in a one-lane load.

Memory stays flat: a lane holds the batch it is filling, and at most `DEPTH` batches
queued or being written; when a lane is that far behind, the reader waits for it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Self

from lse.store.batch_merge import BatchOutcome, Prepared, write_isolating
from lse.store.upsert import BatchWriter

# Batches a lane may have queued or in flight before the reader waits: two keep the
# lane's connection busy while the reader prepares its next batch.
DEPTH = 2
# A lane's first batch is this share of a batch, so the database starts writing as soon
# as the reader has prepared a few hundred runs rather than a full batch for every lane
# (which left the server idle for the first ~0.1 s of a 100,000-run load).
FIRST_BATCH_SHARE = 8


class Lanes:
    """`add` prepared runs; leaving the `with` block writes what is left and waits for
    every lane (after an error: waits for the batches already running, drops the rest).

    Each finished batch's outcome is handed to `on_outcome`, in the caller's thread.
    """

    def __init__(
        self,
        writer: BatchWriter,
        project: str,
        day: date,
        batch_size: int,
        on_outcome: Callable[[BatchOutcome], None],
    ):
        self.writer, self.project, self.day = writer, project, day
        self.batch_size = batch_size
        self.on_outcome = on_outcome
        self.count = max(1, writer.writers)
        self._pools = [ThreadPoolExecutor(1, thread_name_prefix=f"lse-load-{i}") for i in range(self.count)]
        self._filling: list[list[Prepared]] = [[] for _ in range(self.count)]
        self._target = [max(1, batch_size // FIRST_BATCH_SHARE)] * self.count  # then batch_size
        self._queued: list[deque[Future[BatchOutcome]]] = [deque() for _ in range(self.count)]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def add(self, runs: list[Prepared]) -> None:
        for p in runs:
            lane = p.shard % self.count
            self._filling[lane].append(p)
            if len(self._filling[lane]) >= self._target[lane]:
                self._submit(lane)
                self._target[lane] = self.batch_size

    def close(self) -> None:
        """Write the partly filled batches and wait for all; the first error is raised
        after every lane has stopped (no batch is left half-submitted behind it)."""
        try:
            for lane in range(self.count):
                if self._filling[lane]:
                    self._submit(lane)
            for lane in range(self.count):
                while self._queued[lane]:
                    self._collect(lane)
        finally:
            self.abort()

    def abort(self) -> None:
        """Stop taking work and wait for the batches already running (idempotent)."""
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, lane: int) -> None:
        while len(self._queued[lane]) >= DEPTH:
            self._collect(lane)
        batch, self._filling[lane] = self._filling[lane], []
        self._queued[lane].append(self._pools[lane].submit(write_isolating, self.writer, batch, self.project, self.day))

    def _collect(self, lane: int) -> None:
        self.on_outcome(self._queued[lane].popleft().result())
