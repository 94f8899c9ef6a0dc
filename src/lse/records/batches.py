"""Fixed-size batches of any iterable: the one chunking helper (Python 3.11 has no
itertools.batched). Batches bound what a step holds at once — lines of a day being
loaded, ids per query or per request — so memory stays flat however long the input."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items, in order (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
