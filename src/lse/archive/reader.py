"""Reading archived days back: stored runs streamed line by line, and the manifest.

Numbers are read as `Decimal` (lse.records.jsonl.loads) so a cost with more digits than
a float holds survives a read-merge-write cycle exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from pydantic import ValidationError

from lse.archive.layout import manifest_path, runs_path
from lse.archive.manifest import Manifest
from lse.errors import NotFoundError, StorageError
from lse.records.jsonl import loads
from lse.settings import Settings


def iter_stored_runs(settings: Settings, project: str, day: date) -> Iterator[dict[str, Any]]:
    path = runs_path(settings, project, day)
    if not path.is_file():
        raise NotFoundError(
            f"no archive for project {project!r} on {day}: run `lse archive fetch --project "
            f"{project!r} --date {day}` first"
        )
    with path.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield loads(line)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                raise StorageError(f"{path}:{lineno}: not valid JSON ({exc})") from exc


def read_manifest(settings: Settings, project: str, day: date) -> Manifest | None:
    path = manifest_path(settings, project, day)
    if not path.is_file():
        return None
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise StorageError(f"{path}: manifest is not valid ({exc.error_count()} errors)") from exc
