"""What crossed the Files and Batches routes, counted exactly (one lock, copies on read).

`lines_executed` counts every execution of a request line by its `custom_id`, across all
batches: a client that paid for an item twice shows a count of 2 there.
"""

from __future__ import annotations

import threading
from collections import Counter

# The names `count()` accepts; each is also a read-only property.
COUNTERS = (
    "files_uploaded",
    "file_retrieves",
    "file_lists",
    "file_deletes",
    "content_downloads",
    "create_calls",
    "batches_created",
    "retrieves",
    "lists",
    "cancels",
)


class BatchStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._executed: Counter[str] = Counter()

    def count(self, what: str) -> None:
        if what not in COUNTERS:
            raise ValueError(f"unknown batch counter {what!r}")
        with self._lock:
            self._calls[what] += 1

    def executed(self, custom_id: str) -> None:
        with self._lock:
            self._executed[custom_id] += 1

    def _get(self, what: str) -> int:
        with self._lock:
            return self._calls.get(what, 0)

    @property
    def calls(self) -> dict[str, int]:
        with self._lock:
            return {name: self._calls.get(name, 0) for name in COUNTERS}

    @property
    def files_uploaded(self) -> int:
        return self._get("files_uploaded")

    @property
    def content_downloads(self) -> int:
        return self._get("content_downloads")

    @property
    def create_calls(self) -> int:
        return self._get("create_calls")

    @property
    def batches_created(self) -> int:
        return self._get("batches_created")

    @property
    def retrieves(self) -> int:
        return self._get("retrieves")

    @property
    def lists(self) -> int:
        return self._get("lists")

    @property
    def cancels(self) -> int:
        return self._get("cancels")

    @property
    def lines_executed(self) -> dict[str, int]:
        with self._lock:
            return dict(self._executed)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._executed.clear()
