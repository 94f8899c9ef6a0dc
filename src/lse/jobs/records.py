"""Recording what jobs did into the database's fetch records (read by monitoring/).

Kinds: `fetch` (a day fetched), `refetch_day` (a day fetched by a re-fetch campaign),
`load` (written by to-db), and `refetch` milestones (status started / day_done /
completed, with the campaign's progress in `details`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from lse.archive.manifest import Manifest
from lse.settings import Settings
from lse.store.engine import get_engine
from lse.store.fetch_records import FetchRecord, record


def record_fetch(settings: Settings, kind: str, report: Any, manifest: Manifest) -> None:
    rec = FetchRecord.from_manifest(manifest, kind=kind)  # type: ignore[arg-type]
    rec.details.update(
        {
            "crossing_traces": report.crossing_traces,
            "runs_before": report.runs_before,
            "rationale_records_before": report.rationale_records_before,
            "rationale_records_after": report.rationale_records_after,
            "expired_upstream": report.expired_upstream,
        }
    )
    record(get_engine(settings), rec)


def record_milestone(settings: Settings, project: str, day: date, status: str, details: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    rec = FetchRecord(
        kind="refetch", project=project, day=day, status=status, started_at=now, finished_at=now, details=details
    )
    record(get_engine(settings), rec)


def record_failure(
    settings: Settings,
    kind: str,
    project: str,
    day: date,
    started: datetime,
    spent: dict[str, Any],
    error: str,
    run_api: str | None = None,
) -> None:
    """A day whose fetch failed outright: monitoring must see it (CRITICAL), not silence."""
    now = datetime.now(UTC)
    rec = FetchRecord(
        kind=kind,  # type: ignore[arg-type]
        project=project,
        day=day,
        status="failed",
        requests=spent["requests"],
        retries=spent["retries"],
        rate_limited=spent["rate_limited"],
        errors=spent["errors"],
        duration_s=round((now - started).total_seconds(), 3),
        started_at=started,
        finished_at=now,
        details={
            "error": error,
            "by_endpoint": spent["by_endpoint"],
            "run_api": run_api,
            "deprecations": spent.get("deprecations", {}),
        },
    )
    record(get_engine(settings), rec)
