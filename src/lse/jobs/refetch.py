"""Re-fetch a window of days (LangSmith's 14-day retention) into files and database.

Each day is fetched again, merged into the archive (never shrink: a day LangSmith has
already expired keeps what we have and is reported "expired upstream"), and loaded
into the database with the same merge rule. A checkpoint per campaign records each day
as it finishes, so an interrupted re-fetch continues where it stopped; milestones
(started, each day, completed) are recorded for `lse archive status` as INFO alerts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel

from lse.archive.atomic_write import atomic_text_write
from lse.archive.layout import project_slug
from lse.errors import AuthError, ConfigError, LseError, NotFoundError
from lse.jobs.fetch import FailedDay, fetch_days
from lse.jobs.preflight import check_settings
from lse.jobs.records import record_milestone
from lse.langsmith.transport import LangSmithApi
from lse.progress import NullProgress, Progress
from lse.settings import Settings
from lse.store.loader import load_day


class RefetchDay(BaseModel):
    date: date
    status: str  # incomplete (feedback missing or rows not loaded) > expired upstream > complete
    expired_upstream: bool  # LangSmith returned fewer runs than the archive holds
    runs_before: int
    runs_after: int
    upstream_runs: int
    feedback_records_before: int
    feedback_records_after: int
    rationale_records_before: int
    rationale_records_after: int
    db_runs_loaded: int = 0
    db_bad_rows: int = 0
    resumed: bool = False  # done by an earlier, interrupted invocation

    @property
    def rationale_recovered(self) -> int:
        return max(0, self.rationale_records_after - self.rationale_records_before)


class RefetchReport(BaseModel):
    project: str
    campaign: str
    days: list[RefetchDay]
    failed_days: list[FailedDay] = []  # not in the checkpoint: the next invocation retries them
    completed: bool
    run_api: str | None = None  # the runs query API this invocation settled on

    @property
    def complete(self) -> bool:
        return self.completed and not self.failed_days and all(d.status != "incomplete" for d in self.days)

    @property
    def problems(self) -> list[str]:
        out = []
        for d in self.days:
            if d.status == "incomplete":
                why = f"{d.db_bad_rows} row(s) not loaded" if d.db_bad_rows else "feedback not fully fetched"
                out.append(f"{d.date}: {why}")
        out += [f"{f.date}: failed ({f.error})" for f in self.failed_days]
        return out


class _Checkpoint(BaseModel):
    campaign: str
    project: str
    days: list[date]
    done: dict[str, RefetchDay] = {}
    completed: bool = False


def window(days_back: int, today: date | None = None) -> list[date]:
    """The last `days_back` UTC days, oldest first, ending today."""
    today = today or datetime.now(UTC).date()
    return [today - timedelta(days=i) for i in range(days_back - 1, -1, -1)]


def _checkpoint_path(settings: Settings, project: str, days: list[date]):
    name = f"{days[0]}_{days[-1]}.json"
    return settings.data_dir / "state" / "refetch" / project_slug(project) / name


def _load_checkpoint(settings: Settings, project: str, days: list[date], restart: bool) -> tuple[_Checkpoint, bool]:
    path = _checkpoint_path(settings, project, days)
    if path.is_file() and not restart:
        cp = _Checkpoint.model_validate_json(path.read_text(encoding="utf-8"))
        if not cp.completed and cp.days == days:
            return cp, True
    return _Checkpoint(campaign=uuid.uuid4().hex[:12], project=project, days=days), False


def _save(settings: Settings, cp: _Checkpoint) -> None:
    atomic_text_write(_checkpoint_path(settings, cp.project, cp.days), cp.model_dump_json(indent=2))


def refetch_window(
    settings: Settings,
    project: str,
    days: list[date],
    progress: Progress | None = None,
    restart: bool = False,
) -> RefetchReport:
    progress = progress or NullProgress()
    check_settings(settings, langsmith=True, database="ready")  # before the checkpoint or any request
    cp, resumed = _load_checkpoint(settings, project, days, restart)
    base = {"campaign": cp.campaign, "days_total": len(days), "first_day": str(days[0]), "last_day": str(days[-1])}
    if not resumed:
        record_milestone(settings, project, days[0], "started", {**base, "days_done": 0, "runs_processed": 0})
    _save(settings, cp)
    done_before = set(cp.done)
    api = LangSmithApi(settings)
    progress.start(len(days), f"re-fetch {project}")
    progress.update(len(cp.done))
    failed: list[FailedDay] = []
    try:
        for day in days:
            if str(day) in cp.done:
                continue
            try:
                cp.done[str(day)] = _refetch_day(settings, api, project, day)
            except (AuthError, ConfigError, NotFoundError):
                raise
            except LseError as exc:  # this day waits for the next invocation; the others go on
                failed.append(FailedDay(date=day, error=str(exc)))
                progress.log(f"{day}: {exc}")
                progress.update(1)
                continue
            _save(settings, cp)
            processed = sum(d.runs_after for d in cp.done.values())
            d = cp.done[str(day)]
            record_milestone(
                settings,
                project,
                day,
                "day_done",
                {
                    **base,
                    "days_done": len(cp.done),
                    "runs_processed": processed,
                    "day_status": d.status,
                    "rationale_before": d.rationale_records_before,
                    "rationale_after": d.rationale_records_after,
                },
            )
            progress.update(1)
    finally:
        api.close()
    progress.complete()
    cp.completed = not failed
    _save(settings, cp)
    processed = sum(d.runs_after for d in cp.done.values())
    if cp.completed:
        record_milestone(
            settings, project, days[-1], "completed", {**base, "days_done": len(cp.done), "runs_processed": processed}
        )
    out = [
        cp.done[str(day)].model_copy(update={"resumed": resumed and str(day) in done_before})
        for day in days
        if str(day) in cp.done
    ]
    return RefetchReport(
        project=project,
        campaign=cp.campaign,
        days=out,
        failed_days=failed,
        completed=cp.completed,
        run_api=api.run_api,
    )


def _refetch_day(settings: Settings, api: LangSmithApi, project: str, day: date) -> RefetchDay:
    report = fetch_days(settings, project, [day], api=api, raise_on_partial=False, kind="refetch_day").days[0]
    load = load_day(settings, project, day)
    loaded = load.runs_inserted + load.runs_updated + load.runs_unchanged
    if report.status != "complete" or load.bad_rows_count:
        status = "incomplete"
    elif report.expired_upstream:
        status = "expired upstream"
    else:
        status = "complete"
    return RefetchDay(
        date=day,
        status=status,
        expired_upstream=report.expired_upstream,
        runs_before=report.runs_before,
        runs_after=report.runs,
        upstream_runs=report.upstream_runs,
        feedback_records_before=report.feedback_records_before,
        feedback_records_after=report.feedback_records,
        rationale_records_before=report.rationale_records_before,
        rationale_records_after=report.rationale_records_after,
        db_runs_loaded=loaded,
        db_bad_rows=load.bad_rows_count,
    )
