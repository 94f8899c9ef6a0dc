"""Reading archived days back: stored runs streamed line by line, and the manifest.

Numbers are read under the one number policy (`lse.records.jsonl.loads`, docs/numbers.md):
a cost with more digits than a float holds survives a read-merge-write cycle exactly,
and reads back equal to what the database gives for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lse.archive.layout import manifest_path, runs_path
from lse.archive.manifest import Manifest
from lse.errors import NotFoundError, StorageError
from lse.records.jsonl import loads
from lse.settings import Settings


def iter_lines(settings: Settings, project: str, day: date) -> Iterator[tuple[int, bytes]]:
    """The day's non-blank raw lines with their 1-based positions (the loader stores a
    clean line as it is, and one unreadable line is one bad row, not the end of the day).
    NotFoundError when the day is not archived."""
    path = runs_path(settings, project, day)
    if not path.is_file():
        raise NotFoundError(
            f"no archive for project {project!r} on {day}: run `lse archive fetch --project "
            f"{project!r} --date {day}` first"
        )
    return _numbered(path)


# Read a day in 1 MB blocks: at the default (the file system's block size, 4 KB) a
# 300 MB day is 70,000 read calls, about as much time as splitting it into lines.
READ_BUFFER = 1 << 20


def _numbered(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb", buffering=READ_BUFFER) as fh:
        position = 0
        for raw in fh:
            if not raw.isspace():  # a blank line (`isspace` stops at the first other byte: no copy)
                position += 1
                yield position, raw


def iter_stored_runs(settings: Settings, project: str, day: date) -> Iterator[dict[str, Any]]:
    path = runs_path(settings, project, day)
    for position, raw in iter_lines(settings, project, day):
        try:
            yield loads(raw)
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise StorageError(f"{path}: line {position} is not valid JSON ({exc})") from exc


def read_manifest(settings: Settings, project: str, day: date) -> Manifest | None:
    path = manifest_path(settings, project, day)
    if not path.is_file():
        return None
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise StorageError(f"{path}: manifest is not valid ({exc.error_count()} errors)") from exc
