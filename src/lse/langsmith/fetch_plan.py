"""The fetch plan for one project-day (docs/fetch-plan.md).

A project-day is the set of traces whose ROOT run started on that UTC day; all runs of
those traces belong to it. With as few requests as the API allows:

1. scan: every run that started on the day, cursor-paged (run_query.py: v2 pages of
   1,000, or v1 pages of 100);
2. keep the runs whose trace's root is among the scanned roots (drops children of
   traces rooted the day before that started after midnight);
3. closure: for traces that may cross midnight (a kept run ends after the day or has
   not ended), query their runs that started after the day, 50 trace ids per query;
4. feedback: `GET /feedback` batched by run ids for every run with non-empty
   `feedback_stats` (feedback_query.py).

Feedback that cannot be fetched after retries leaves its runs `not_fetched` (records
None, never []) and the day incomplete — the runs themselves are still archived. After
one batch has failed, the next is a probe with a single retry; when it fails too, the
endpoint is taken for dead and the day's remaining runs are marked `not_fetched`
without further calls, so an outage costs about one batch's retry budget, not one per
batch. The next fetch of the day fills them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, TypeVar

from lse.errors import AuthError, LseError
from lse.langsmith.feedback_query import FeedbackBatch, expected_records, fetch_batch, plan_batches
from lse.langsmith.filters import in_traces_started_from, started_between
from lse.langsmith.projects import ProjectRef
from lse.langsmith.run_query import RunQuery, RunScope
from lse.langsmith.transport import LangSmithApi
from lse.progress import NullProgress, Progress
from lse.records import FeedbackStatus
from lse.records.timestamps import parse_utc

CLOSURE_TRACES_PER_QUERY = 50
# Runs of a trace can start long after its root; the closure looks up to now, plus a day
# for tracers whose clocks run ahead of LangSmith's.
CLOCK_SKEW = timedelta(days=1)
FAILED_BATCHES_TO_STOP = 2  # consecutive feedback batches failed after retries
PROBE_MAX_RETRIES = 1  # the retries of the batch after a failed one
T = TypeVar("T")


@dataclass
class DayFetch:
    day: date
    runs: list[dict[str, Any]]  # stored runs: raw run + feedback_records + status
    traces: int
    feedback_errors: list[str] = field(default_factory=list)
    crossing_traces: int = 0
    run_api: Literal["v2", "v1"] | None = None  # which runs query API answered

    @property
    def complete(self) -> bool:
        return not self.feedback_errors


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def closure_until(day_end: datetime, now: datetime | None = None) -> datetime:
    """The upper start-time bound of the closure query (every query names both bounds)."""
    return max(now or datetime.now(UTC), day_end) + CLOCK_SKEW


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _trace_of(run: dict[str, Any]) -> str:
    return str(run.get("trace_id") or run["id"])


def _may_cross(run: dict[str, Any], day_end: datetime) -> bool:
    ended = parse_utc(run.get("end_time"))
    return ended is None or ended >= day_end


def scan_day(
    query: RunQuery, project: ProjectRef, day: date, progress: Progress
) -> tuple[dict[str, dict[str, Any]], int]:
    """Steps 1-3: the runs of the project-day, by id, and how many traces crossed midnight."""
    start, end = day_bounds(day)
    scanned: dict[str, dict[str, Any]] = {}
    progress.start(None, f"{project.name} {day}: runs")
    for page in query.pages(RunScope(project.id, start, end, started_between(start, end))):
        for run in page:
            scanned[str(run["id"])] = run
        progress.update(len(page))
    roots = {_trace_of(r) for r in scanned.values() if not r.get("parent_run_id")}
    kept = {rid: r for rid, r in scanned.items() if _trace_of(r) in roots}
    crossing = sorted({_trace_of(r) for r in kept.values() if _may_cross(r, end)})
    until = closure_until(end)
    for chunk in _chunks(crossing, CLOSURE_TRACES_PER_QUERY):
        for page in query.pages(RunScope(project.id, end, until, in_traces_started_from(chunk, end))):
            for run in page:
                if _trace_of(run) in roots:
                    kept[str(run["id"])] = run
            progress.update(len(page))
    progress.complete()
    return kept, len(crossing)


def fetch_feedback(
    api: LangSmithApi, runs: Iterable[dict[str, Any]], progress: Progress
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Step 4: records by run id for runs with feedback_stats, and errors by run id."""
    wanted = [(str(r["id"]), expected_records(r.get("feedback_stats"))) for r in runs if r.get("feedback_stats")]
    batches = plan_batches(wanted)
    records: dict[str, list[dict[str, Any]]] = {rid: [] for rid, _ in wanted}
    failed: dict[str, str] = {}
    progress.start(len(batches), "feedback batches")
    failed_in_a_row, last_error = 0, ""
    for position, batch in enumerate(batches):
        if failed_in_a_row >= FAILED_BATCHES_TO_STOP:
            _give_up(batches[position:], failed, failed_in_a_row, last_error, progress)
            break
        try:
            got = list(fetch_batch(api, batch, max_retries=PROBE_MAX_RETRIES if failed_in_a_row else None))
        except AuthError:
            raise
        except LseError as exc:
            failed_in_a_row, last_error = failed_in_a_row + 1, str(exc)
            for rid in batch.run_ids:
                failed[rid] = last_error
            progress.log(f"feedback not fetched for {len(batch.run_ids)} runs: {exc}")
            progress.update(1)
            continue
        failed_in_a_row = 0
        seen: set[str] = set()
        for rec in got:
            fid = str(rec.get("id"))
            if fid in seen:
                continue  # offset paging over a changing set can repeat a record
            seen.add(fid)
            records.setdefault(str(rec.get("run_id")), []).append(rec)
        progress.update(1)
    progress.complete()
    for rid in failed:
        records.pop(rid, None)
    return records, failed


def _give_up(rest: list[FeedbackBatch], failed: dict[str, str], in_a_row: int, last: str, progress: Progress) -> None:
    """The circuit is open: the remaining batches' runs are not fetched, no more calls."""
    why = f"not fetched: {in_a_row} feedback batches in a row failed (last: {last}); the next fetch fills it in"
    runs = [rid for batch in rest for rid in batch.run_ids]
    for rid in runs:
        failed[rid] = why
    progress.log(f"feedback endpoint failing: {len(runs)} more runs left for the next fetch")
    progress.update(len(rest))


def stored_run(run: dict[str, Any], records: dict[str, list[dict[str, Any]]], failed: dict[str, str]) -> dict[str, Any]:
    """The run as returned plus its feedback fields (the records/ contract)."""
    rid = str(run["id"])
    out = dict(run)
    if rid in failed:
        out["feedback_records"] = None
        out["feedback_fetch_status"] = FeedbackStatus.NOT_FETCHED.value
        out["feedback_fetch_error"] = failed[rid]
    elif run.get("feedback_stats"):
        recs = sorted(records.get(rid, []), key=lambda r: (str(r.get("created_at")), str(r.get("id"))))
        out["feedback_records"] = recs
        out["feedback_fetch_status"] = FeedbackStatus.FETCHED.value
    else:
        out["feedback_records"] = []
        out["feedback_fetch_status"] = FeedbackStatus.NONE.value
    return out


def fetch_project_day(
    api: LangSmithApi,
    query: RunQuery,
    project: ProjectRef,
    day: date,
    progress: Progress | None = None,
) -> DayFetch:
    progress = progress or NullProgress()
    kept, crossing = scan_day(query, project, day, progress)
    records, failed = fetch_feedback(api, kept.values(), progress)
    runs = [stored_run(r, records, failed) for r in kept.values()]
    runs.sort(key=lambda r: (str(r.get("start_time") or ""), str(r["id"])))
    errors = sorted(set(failed.values()))
    traces = len({_trace_of(r) for r in runs})
    run_api: Literal["v2", "v1"] | None = query.run_api.value if query.run_api else None
    return DayFetch(
        day=day, runs=runs, traces=traces, feedback_errors=errors, crossing_traces=crossing, run_api=run_api
    )
