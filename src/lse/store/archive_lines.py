"""Batches for streaming an archived day (raw lines come from lse.archive.reader.iter_lines:
one unreadable line is one bad row, and a clean line is stored without re-serialising)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items (the last may be shorter): memory stays flat however long the day."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
