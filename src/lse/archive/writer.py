"""Writing one archived day: runs.jsonl first, manifest.json last (the commit marker).

Both go through the atomic writer, so a kill -9 at any point leaves the previous
complete day or the new complete day on disk, never a torn file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from lse.archive.atomic_write import atomic_text_write, atomic_writer
from lse.archive.counts import count_runs
from lse.archive.layout import manifest_path, runs_path
from lse.archive.manifest import DayCounts, Manifest
from lse.records.jsonl import dumps_line
from lse.settings import Settings


def write_runs(settings: Settings, project: str, day: date, runs: Iterable[dict[str, Any]]) -> tuple[str, DayCounts]:
    """Write the day's runs; return the file's sha256 and its counts."""
    digest = hashlib.sha256()
    materialised = list(runs)
    with atomic_writer(runs_path(settings, project, day)) as fh:
        for run in materialised:
            line = dumps_line(run) + "\n"
            digest.update(line.encode("ascii"))
            fh.write(line)
    return digest.hexdigest(), count_runs(materialised)


def write_manifest(settings: Settings, manifest: Manifest) -> None:
    path = manifest_path(settings, manifest.project, manifest.date)
    atomic_text_write(path, manifest.model_dump_json(indent=2) + "\n")
