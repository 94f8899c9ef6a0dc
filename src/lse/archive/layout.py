"""Where archived files live: `$LSE_DATA_DIR/archive/<project-slug>/<YYYY-MM-DD>/`.

The slug percent-encodes every byte outside [A-Za-z0-9._-] and refuses '', '.' and
'..', so no project name can reach outside the archive folder (path traversal), and
two different names never share a folder. The slug decodes back to the name.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote

from lse.errors import NotFoundError, UsageError
from lse.settings import Settings

RUNS_FILE = "runs.jsonl"
MANIFEST_FILE = "manifest.json"


def project_slug(project: str) -> str:
    if not project or not project.strip():
        raise UsageError("project name must not be empty")
    slug = quote(project, safe="")
    slug = slug.replace("~", "%7E")
    if slug in {".", ".."} or slug.startswith("."):
        slug = "%2E" + slug[1:]
    return slug


def project_dir(settings: Settings, project: str) -> Path:
    root = settings.archive_dir.resolve()
    folder = (root / project_slug(project)).resolve()
    if folder.parent != root:
        raise UsageError(f"project name {project!r} does not map to a folder inside the archive")
    return folder


def day_dir(settings: Settings, project: str, day: date) -> Path:
    return project_dir(settings, project) / day.isoformat()


def runs_path(settings: Settings, project: str, day: date) -> Path:
    return day_dir(settings, project, day) / RUNS_FILE


def manifest_path(settings: Settings, project: str, day: date) -> Path:
    return day_dir(settings, project, day) / MANIFEST_FILE


def list_days(settings: Settings, project: str) -> list[date]:
    folder = project_dir(settings, project)
    if not folder.is_dir():
        return []
    days = []
    for child in folder.iterdir():
        try:
            day = date.fromisoformat(child.name)
        except ValueError:
            continue
        if (child / RUNS_FILE).is_file():
            days.append(day)
    return sorted(days)


def require_archived(settings: Settings, project: str, days: list[date]) -> list[date]:
    """The days of `days` that are archived; NotFoundError when there are none, so a
    typo in --project or a wrong range never "succeeds" on nothing."""
    have = set(list_days(settings, project))
    if not have:
        raise NotFoundError(
            f"nothing is archived for project {project!r} in {settings.archive_dir}: "
            "check --project, or run `lse archive fetch` first"
        )
    found = [d for d in days if d in have]
    if not found:
        raise NotFoundError(
            f"no archived day of {project!r} in {days[0]}..{days[-1]} "
            f"(archived days run from {min(have)} to {max(have)})"
        )
    return found
