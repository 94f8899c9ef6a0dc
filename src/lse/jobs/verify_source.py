"""Spot-check the archive against LangSmith: re-read N random archived runs and their
feedback from the API and report every difference (the "compare with the UI" step of
the spec, automated). Runs the API no longer has are reported as expired, not as
disagreements; anything else that differs is a disagreement.

A day archived through one runs query API and read back through the other is compared
on what both serve alike (langsmith/v2_runs.py): fields only one API has are skipped,
and `feedback_stats`, whose per-key shape differs, is compared by its record counts.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from lse.archive.layout import list_days, require_archived
from lse.archive.reader import iter_stored_runs, read_manifest
from lse.jobs.preflight import check_settings
from lse.langsmith.feedback_query import FeedbackBatch, fetch_batch
from lse.langsmith.filters import run_ids_in
from lse.langsmith.projects import resolve_project
from lse.langsmith.run_query import RunScope, make_run_query
from lse.langsmith.transport import LangSmithApi
from lse.langsmith.v2_runs import API_SHAPED_FIELDS, V1_ONLY_FIELDS, V2_ONLY_FIELDS
from lse.records import FeedbackStatus, feedback_status_of
from lse.records.timestamps import parse_utc
from lse.settings import Settings

OUR_KEYS = {"feedback_records", "feedback_fetch_status", "feedback_fetch_error"}
# Costs compare by amount: v1 sends decimal strings, v2 numbers ("0.0030" is 0.003).
COST_KEYS = {"total_cost", "prompt_cost", "completion_cost", "prompt_cost_details", "completion_cost_details"}
IDS_PER_QUERY = 100


class SourceDifference(BaseModel):
    run_id: str
    day: date
    what: str  # run field | feedback missing | feedback extra | feedback changed
    detail: str


class SourceCheck(BaseModel):
    project: str
    sampled: int
    compared: int
    expired_upstream: list[str]
    differences: list[SourceDifference]

    @property
    def agrees(self) -> bool:
        return not self.differences


def _sample(
    settings: Settings, project: str, days: list[date] | None, n: int, seed: int | None
) -> list[tuple[date, dict[str, Any]]]:
    """Reservoir sample of archived runs across the days (one pass, flat memory)."""
    rng = random.Random(seed)
    chosen: list[tuple[date, dict[str, Any]]] = []
    seen = 0
    for day in require_archived(settings, project, days or list_days(settings, project) or [date.today()]):
        for run in iter_stored_runs(settings, project, day):
            seen += 1
            if len(chosen) < n:
                chosen.append((day, run))
            else:
                j = rng.randrange(seen)
                if j < n:
                    chosen[j] = (day, run)
    return chosen


def _window(picked: list[tuple[date, dict[str, Any]]]) -> tuple[datetime, datetime]:
    """Start-time bounds around the sampled runs (both runs query APIs want a window)."""
    starts = [parse_utc(run.get("start_time")) for _, run in picked]
    known = [s for s in starts if s is not None] + [datetime.combine(d, time(0), tzinfo=UTC) for d, _ in picked]
    return min(known), max(known) + timedelta(days=1)


def verify_against_source(
    settings: Settings, project: str, days: list[date] | None, sample: int, seed: int | None = None
) -> SourceCheck:
    check_settings(settings, langsmith=True)
    picked = _sample(settings, project, days, sample, seed)
    api = LangSmithApi(settings)
    diffs: list[SourceDifference] = []
    expired: list[str] = []
    try:
        ref = resolve_project(api, project)
        query = make_run_query(api, settings.langsmith_run_api)
        upstream: dict[str, dict[str, Any]] = {}
        ids = [str(run["id"]) for _, run in picked]
        lo, hi = _window(picked) if picked else (datetime.now(UTC), datetime.now(UTC))
        for i in range(0, len(ids), IDS_PER_QUERY):
            for page in query.pages(RunScope(ref.id, lo, hi, run_ids_in(ids[i : i + IDS_PER_QUERY]))):
                upstream.update({str(r["id"]): r for r in page})
        feedback: dict[str, list[dict[str, Any]]] = {}
        with_feedback = [rid for rid in ids if rid in upstream and upstream[rid].get("feedback_stats")]
        for i in range(0, len(with_feedback), IDS_PER_QUERY):
            batch = FeedbackBatch(with_feedback[i : i + IDS_PER_QUERY], 0)
            for rec in fetch_batch(api, batch):
                feedback.setdefault(str(rec["run_id"]), []).append(rec)
    finally:
        api.close()
    archived_api = {day: _archived_api(settings, project, day) for day in {d for d, _ in picked}}
    for day, run in picked:
        rid = str(run["id"])
        if rid not in upstream:
            expired.append(rid)
            continue
        alike = archived_api[day] == api.run_api
        diffs += _compare(day, run, upstream[rid], feedback.get(rid, []), alike)
    return SourceCheck(
        project=project,
        sampled=len(picked),
        compared=len(picked) - len(expired),
        expired_upstream=expired,
        differences=diffs,
    )


def _archived_api(settings: Settings, project: str, day: date) -> str:
    """The runs query API that archived the day (v1 for manifests written before v2)."""
    manifest = read_manifest(settings, project, day)
    return (manifest.run_api if manifest else None) or "v1"


def _feedback_counts(stats: Any) -> dict[str, Any]:
    return {k: v.get("n") if isinstance(v, dict) else v for k, v in (stats or {}).items()}


def _compare(
    day: date,
    archived: dict[str, Any],
    live: dict[str, Any],
    live_feedback: list[dict[str, Any]],
    alike: bool = True,
) -> list[SourceDifference]:
    """Differences of one run; `alike` is False when the archive came from the other API."""
    rid = str(archived["id"])
    out: list[SourceDifference] = []
    for key in sorted(set(archived) | set(live)):
        if key in OUR_KEYS:
            continue
        mine, theirs = archived.get(key), live.get(key)
        if not alike:
            if key in V1_ONLY_FIELDS or key in V2_ONLY_FIELDS or key == "first_token_time":
                continue
            if key in API_SHAPED_FIELDS:
                mine, theirs = _feedback_counts(mine), _feedback_counts(theirs)
        if key in COST_KEYS:
            mine, theirs = _amount(mine), _amount(theirs)
        if _norm(mine) != _norm(theirs):
            out.append(SourceDifference(run_id=rid, day=day, what="run field", detail=key))
    status = feedback_status_of(archived)
    if status not in (FeedbackStatus.FETCHED, FeedbackStatus.NONE):
        if live_feedback:
            out.append(
                SourceDifference(
                    run_id=rid,
                    day=day,
                    what="feedback missing",
                    detail=f"archive has {status.value} feedback; LangSmith has {len(live_feedback)} records",
                )
            )
        return out
    mine = {str(r["id"]): r for r in archived.get("feedback_records") or []}
    theirs = {str(r["id"]): r for r in live_feedback}
    for fid in sorted(set(theirs) - set(mine)):
        out.append(SourceDifference(run_id=rid, day=day, what="feedback missing", detail=fid))
    for fid in sorted(set(mine) - set(theirs)):
        out.append(SourceDifference(run_id=rid, day=day, what="feedback extra", detail=f"{fid} (deleted upstream?)"))
    for fid in sorted(set(mine) & set(theirs)):
        if _norm(mine[fid]) != _norm(theirs[fid]):
            keys = [
                k for k in set(mine[fid]) | set(theirs[fid]) if _norm(mine[fid].get(k)) != _norm(theirs[fid].get(k))
            ]
            out.append(
                SourceDifference(
                    run_id=rid, day=day, what="feedback changed", detail=f"{fid}: {', '.join(sorted(keys))}"
                )
            )
    return out


def _amount(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _amount(v) for k, v in value.items()}
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return value
    return value


def _norm(value: Any) -> Any:
    """Compare numbers by value (the archive may spell 1.10 as 1.1)."""
    if isinstance(value, (float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value
