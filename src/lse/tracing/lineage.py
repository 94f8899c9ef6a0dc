"""Where a golden item came from: the archived run (and its trace) a reviewer approved.

A dataset built from archived PASS verdicts stores each source run id as the item's
category, `run:<run id>`; the archive knows that run's trace and project. Lineage is
claimed only when the archive holds that run, so a hand-made CSV whose category merely
looks like one names no source.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lse.store.models.archive import RunRow

PREFIX = "run:"


def source_run_id(category: str | None) -> str | None:
    if category and category.startswith(PREFIX) and len(category) > len(PREFIX):
        return category[len(PREFIX) :]
    return None


def lineage(session: Session, categories: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """Source run id → {source_run_id, source_trace_id, source_project, source_day} for
    every category naming an archived run."""
    ids = sorted({rid for rid in (source_run_id(c) for c in categories) if rid})
    found: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(RunRow.run_id, RunRow.trace_id, RunRow.project, RunRow.run_date).where(
                RunRow.run_id.in_(ids[i : i + 500])
            )
        )
        for run_id, trace_id, project, day in rows:
            found[run_id] = {
                "source_run_id": run_id,
                "source_trace_id": trace_id,
                "source_project": project,
                "source_day": day.isoformat(),
            }
    return found
