"""`fetch_days`: archive every run and native feedback record of project-days.

One LangSmith client (one pacer, one set of counters) serves all days; each day's new
fetch is merged into what is already archived (lse.records.merge_run — never shrink),
written atomically with its manifest, and recorded in the database for monitoring.
A day whose feedback could not all be fetched is written anyway, marked incomplete,
and the whole call ends with PartialResult (exit 3) after every day is done. Settings
are checked before the first request (jobs/preflight.py). The manifest and the fetch
record say which runs query API answered (`run_api`) and which deprecated endpoints
LangSmith flagged on the way (`fetch.deprecations`, a WARNING in `lse archive status`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from pydantic import BaseModel

from lse import __version__
from lse.archive.counts import count_runs, rationale_records
from lse.archive.day_lock import locked_day
from lse.archive.layout import runs_path
from lse.archive.manifest import DayCounts, DeprecationSeen, FetchCounters, Manifest
from lse.archive.reader import iter_stored_runs
from lse.archive.writer import write_manifest, write_runs
from lse.errors import AuthError, ConfigError, LseError, PartialResult, StorageError
from lse.jobs.preflight import check_settings
from lse.jobs.records import record_failure, record_fetch
from lse.langsmith.fetch_plan import fetch_project_day
from lse.langsmith.projects import resolve_project
from lse.langsmith.run_query import make_run_query
from lse.langsmith.transport import LangSmithApi
from lse.progress import NullProgress, Progress
from lse.records import merge_run
from lse.settings import Settings

log = logging.getLogger(__name__)


class DayReport(BaseModel):
    project: str
    date: date
    status: str  # complete | incomplete
    runs: int
    traces: int
    runs_with_feedback_stats: int
    runs_feedback_fetched: int
    runs_feedback_not_fetched: int
    runs_feedback_unknown: int
    feedback_records: int
    upstream_runs: int
    runs_before: int
    feedback_records_before: int
    rationale_records_before: int
    rationale_records_after: int
    expired_upstream: bool  # the API returned fewer runs than the archive holds
    crossing_traces: int
    requests: int
    retries: int
    rate_limited: int
    errors: int
    duration_s: float
    run_api: str | None = None  # the runs query API that answered: v2 | v1
    deprecations: dict[str, DeprecationSeen] = {}  # endpoints LangSmith marked deprecated
    feedback_errors: list[str] = []
    example_rationale: dict[str, Any] | None = None


class FailedDay(BaseModel):
    date: date
    error: str


class FetchReport(BaseModel):
    project: str
    days: list[DayReport]
    failed_days: list[FailedDay] = []
    warnings: list[str] = []  # e.g. the database could not record the fetch
    run_api: str | None = None  # the runs query API the fetch settled on

    @property
    def deprecations(self) -> dict[str, DeprecationSeen]:
        seen: dict[str, DeprecationSeen] = {}
        for day in self.days:
            seen.update(day.deprecations)
        return seen

    @property
    def complete(self) -> bool:
        return all(d.status == "complete" for d in self.days) and not self.failed_days and not self.warnings

    def summary(self) -> str:
        parts = []
        bad = [d for d in self.days if d.status != "complete"]
        if bad:
            first = next((d.feedback_errors[0] for d in bad if d.feedback_errors), "see the manifest")
            parts.append(
                f"{len(bad)} day(s) incomplete: feedback not fetched for "
                f"{sum(d.runs_feedback_not_fetched for d in bad)} run(s) ({first})"
            )
        for f in self.failed_days:
            parts.append(f"{f.date} failed: {f.error}")
        parts += self.warnings
        return "; ".join(parts) + "; rerun the same fetch later to fill the gap"


def _existing(settings: Settings, project: str, day: date) -> dict[str, dict[str, Any]]:
    if not runs_path(settings, project, day).is_file():
        return {}
    return {str(r["id"]): r for r in iter_stored_runs(settings, project, day)}


def _example_rationale(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    for run in runs:
        stats = run.get("feedback_stats") or {}
        for rec in run.get("feedback_records") or []:
            key_stats = stats.get(rec.get("key")) or {}
            if isinstance(rec.get("value"), dict) and key_stats.get("values") == {}:
                return {
                    "run_id": str(run["id"]),
                    "key": rec.get("key"),
                    "feedback_stats_values": {},
                    "value": rec["value"],
                }
    return None


def fetch_days(
    settings: Settings,
    project: str,
    days: list[date],
    progress: Progress | None = None,
    api: LangSmithApi | None = None,
    raise_on_partial: bool = True,
    kind: str = "fetch",
) -> FetchReport:
    """Fetch each day; a day that fails is recorded and the others still run (retention
    does not wait). Credentials and configuration errors stop everything at once; if
    every day failed, the first error is raised as it is."""
    progress = progress or NullProgress()
    check_settings(settings, langsmith=True, database="form")
    own_api = api is None
    api = api or LangSmithApi(settings)
    result = FetchReport(project=project, days=[])
    first_error: LseError | None = None
    try:
        ref = resolve_project(api, project)
        query = make_run_query(api, settings.langsmith_run_api)
        for day in days:
            started = datetime.now(UTC)
            before = api.counters.snapshot()
            try:
                report, manifest = _fetch_one(settings, api, query, ref, day, progress)
            except (AuthError, ConfigError):
                raise
            except LseError as exc:
                first_error = first_error or exc
                failure = FailedDay(date=day, error=str(exc))
                result.failed_days.append(failure)
                spent = api.counters.minus(before)
                failure_record = partial(
                    record_failure, settings, kind, ref.name, day, started, spent, failure.error, api.run_api
                )
                _try_record(result, failure_record)
                continue
            result.days.append(report)
            _try_record(result, partial(record_fetch, settings, kind, report, manifest))
    finally:
        result.run_api = api.run_api
        if own_api:
            api.close()
    if first_error is not None and not result.days:
        raise first_error
    if raise_on_partial and not result.complete:
        raise PartialResult(result.summary(), details=result)
    return result


def _try_record(result: FetchReport, write: Callable[[], None]) -> None:
    """The archive files are written; a database that cannot take the figures must not
    stop the remaining days. Say so, and end partial."""
    try:
        write()
    except StorageError as exc:
        log.warning("fetch record not written: %s", exc)
        result.warnings.append(f"monitoring record not written ({exc})")


def _fetch_one(settings, api, query, ref, day, progress) -> tuple[DayReport, Manifest]:
    started = time.monotonic()
    before_counters = api.counters.snapshot()
    fetched = fetch_project_day(api, query, ref, day, progress)
    with locked_day(settings, ref.name, day):  # read-merge-write: one writer per day
        stored = _existing(settings, ref.name, day)
        before_counts = count_runs(stored.values())
        before_rationale = rationale_records(stored.values())
        merged = dict(stored)
        for run in fetched.runs:
            merged[str(run["id"])] = merge_run(stored.get(str(run["id"])), run)
        runs = sorted(merged.values(), key=lambda r: (str(r.get("start_time") or ""), str(r["id"])))
        sha, counts = write_runs(settings, ref.name, day, runs)
        spent = api.counters.minus(before_counters)
        duration = time.monotonic() - started
        complete = fetched.complete and counts.runs_feedback_not_fetched == 0
        manifest = Manifest(
            project=ref.name,
            date=day,
            status="complete" if complete else "incomplete",
            counts=counts,
            fetch=FetchCounters(**spent),
            upstream_runs=len(fetched.runs),
            run_api=fetched.run_api,
            duration_s=round(duration, 3),
            tool_version=__version__,
            fetched_at=datetime.now(UTC),
            runs_sha256=sha,
            notes=fetched.feedback_errors,
        )
        write_manifest(settings, manifest)
    report = _report(ref.name, day, manifest, counts, before_counts, before_rationale, runs, fetched)
    return report, manifest


def _report(project, day, manifest, counts: DayCounts, before: DayCounts, before_rationale, runs, fetched) -> DayReport:
    f = manifest.fetch
    return DayReport(
        project=project,
        date=day,
        status=manifest.status,
        runs=counts.runs,
        traces=counts.traces,
        runs_with_feedback_stats=counts.runs_with_feedback_stats,
        runs_feedback_fetched=counts.runs_feedback_fetched,
        runs_feedback_not_fetched=counts.runs_feedback_not_fetched,
        runs_feedback_unknown=counts.runs_feedback_unknown,
        feedback_records=counts.feedback_records,
        upstream_runs=len(fetched.runs),
        runs_before=before.runs,
        feedback_records_before=before.feedback_records,
        rationale_records_before=before_rationale,
        rationale_records_after=rationale_records(runs),
        expired_upstream=len(fetched.runs) < before.runs,
        crossing_traces=fetched.crossing_traces,
        requests=f.requests,
        retries=f.retries,
        rate_limited=f.rate_limited,
        errors=f.errors,
        duration_s=manifest.duration_s,
        run_api=manifest.run_api,
        deprecations=f.deprecations,
        feedback_errors=fetched.feedback_errors,
        example_rationale=_example_rationale(runs),
    )
