"""Project (tracer session) lookup by name: one `GET /sessions?name=` per fetch."""

from __future__ import annotations

from dataclasses import dataclass

from lse.errors import NotFoundError
from lse.langsmith.transport import LangSmithApi


@dataclass(frozen=True)
class ProjectRef:
    id: str
    name: str


def resolve_project(api: LangSmithApi, name: str) -> ProjectRef:
    found = api.get_json("/sessions", {"name": name, "limit": 1}, endpoint="sessions")
    rows = found if isinstance(found, list) else (found or {}).get("sessions", [])
    for row in rows:
        if row.get("name") == name:
            return ProjectRef(id=str(row["id"]), name=name)
    raise NotFoundError(f"LangSmith has no project named {name!r}: check --project")
