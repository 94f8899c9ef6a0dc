"""An archived day's runs.jsonl as raw lines, for the loader and verify.

Read here rather than through `lse.archive.reader.iter_stored_runs` for two reasons:
one unreadable line must be one bad row, not the end of the day (the reader's
generator cannot continue after raising), and a clean line can be stored without
being parsed and serialised twice (`stored_form.parse_line`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import TypeVar

from lse.archive.layout import runs_path
from lse.errors import NotFoundError
from lse.settings import Settings

T = TypeVar("T")


def iter_lines(settings: Settings, project: str, day: date) -> Iterator[tuple[int, bytes]]:
    """The day's non-blank lines with their 1-based positions; NotFoundError when not archived."""
    path = runs_path(settings, project, day)
    if not path.is_file():
        raise NotFoundError(
            f"no archive for project {project!r} on {day}: run `lse archive fetch --project "
            f"{project!r} --date {day}` first"
        )
    return _read(path)


def _read(path) -> Iterator[tuple[int, bytes]]:  # noqa: ANN001
    with path.open("rb") as fh:
        position = 0
        for raw in fh:
            if raw.strip():
                position += 1
                yield position, raw


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
