"""`build_status`: recent fetches with their figures, re-fetch progress, and the alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from lse.monitoring.alerts import Alert, Level, exit_code, fetch_alerts, worst
from lse.monitoring.deprecations import deprecation_alerts
from lse.monitoring.figures import FetchFigures, figures_of
from lse.settings import Settings
from lse.store import fetch_records
from lse.store.engine import get_engine

MILESTONE_KIND = "refetch"


class RefetchProgress(BaseModel):
    project: str
    campaign: str
    started_at: datetime | None
    days_total: int
    days_done: int
    runs_processed: int
    completed: bool


class StatusReport(BaseModel):
    generated_at: datetime
    project: str | None
    window_days: int
    fetches: list[FetchFigures]
    refetch: list[RefetchProgress]
    alerts: list[Alert]
    worst: Level | None
    exit_code: int


def _when(record: Any) -> datetime:
    at = record.finished_at or record.started_at
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def build_status(settings: Settings, project: str | None = None, days: int = 7) -> StatusReport:
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    records = sorted(fetch_records.recent(get_engine(settings), project=project), key=_when)
    history = [figures_of(r) for r in records if r.kind != MILESTONE_KIND]
    window = [
        f for f, r in zip(history, [r for r in records if r.kind != MILESTONE_KIND], strict=False) if _when(r) >= since
    ]
    alerts = fetch_alerts(history, window) + deprecation_alerts(window)
    milestones = [r for r in records if r.kind == MILESTONE_KIND]
    alerts += [_milestone_alert(r) for r in milestones if _when(r) >= since]
    alerts.sort(key=lambda a: a.at or now)
    return StatusReport(
        generated_at=now,
        project=project,
        window_days=days,
        fetches=window,
        refetch=_progress(milestones),
        alerts=alerts,
        worst=worst(alerts),
        exit_code=exit_code(alerts),
    )


def _milestone_alert(record: Any) -> Alert:
    d = record.details or {}
    if record.status == "started":
        text = f"re-fetch started: {d.get('days_total')} day(s) {d.get('first_day')}..{d.get('last_day')}"
    elif record.status == "day_done":
        text = (
            f"re-fetch day {record.day} done ({d.get('days_done')}/{d.get('days_total')}): "
            f"{d.get('day_status')}, rationale records {d.get('rationale_before')} -> {d.get('rationale_after')}"
        )
    else:
        text = f"re-fetch completed: {d.get('days_done')}/{d.get('days_total')} day(s), {d.get('runs_processed')} runs"
    return Alert(
        level=Level.INFO, project=record.project, day=record.day, kind=MILESTONE_KIND, message=text, at=_when(record)
    )


def _progress(milestones: list[Any]) -> list[RefetchProgress]:
    latest: dict[tuple[str, str], RefetchProgress] = {}
    for r in milestones:
        d = r.details or {}
        key = (r.project, str(d.get("campaign")))
        prog = latest.get(key) or RefetchProgress(
            project=r.project,
            campaign=str(d.get("campaign")),
            started_at=_when(r) if r.status == "started" else None,
            days_total=int(d.get("days_total") or 0),
            days_done=0,
            runs_processed=0,
            completed=False,
        )
        prog.days_done = max(prog.days_done, int(d.get("days_done") or 0))
        prog.runs_processed = max(prog.runs_processed, int(d.get("runs_processed") or 0))
        prog.completed = prog.completed or r.status == "completed"
        latest[key] = prog
    return list(latest.values())
