"""Reading archived days back: stored runs streamed line by line, and the manifest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from pydantic import ValidationError

from lse.archive.layout import manifest_path, runs_path
from lse.archive.manifest import Manifest
from lse.errors import NotFoundError, StorageError
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
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise StorageError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc


def read_manifest(settings: Settings, project: str, day: date) -> Manifest | None:
    path = manifest_path(settings, project, day)
    if not path.is_file():
        return None
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise StorageError(f"{path}: manifest is not valid ({exc.error_count()} errors)") from exc
