"""Alert rules over recorded fetches (docs/monitoring.md).

- CRITICAL: a fetch's feedback extraction failure rate is above 5%, or the fetch failed.
- WARNING: a fetch took more than 150% of its project's baseline — the median
  seconds-per-run of that project's previous successful fetches.
- INFO: re-fetch milestones (started, each day done, completed).
- WARNING: LangSmith answered with `Deprecation`/`Sunset` headers (deprecations.py).
- SUCCESS: a fetched day's feedback validation passes (every run with
  feedback_stats has its records).

The worst level is the exit status of `lse archive status`: 0 ok/info/success,
1 warning, 2 critical.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from lse.monitoring.figures import FetchFigures

FAILURE_RATE_CRITICAL = 0.05
SLOW_FACTOR = 1.5
FETCH_KINDS = {"fetch", "refetch_day"}


class Level(StrEnum):
    SUCCESS = "SUCCESS"
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


EXIT_CODE = {Level.SUCCESS: 0, Level.INFO: 0, Level.WARNING: 1, Level.CRITICAL: 2}


class Alert(BaseModel):
    level: Level
    project: str
    day: date | None
    kind: str
    message: str
    at: datetime | None = None
    endpoint: str | None = None  # a deprecation warning's "METHOD /path"
    sunset: str | None = None  # its Sunset header, as LangSmith sent it


def fetch_alerts(history: list[FetchFigures], window: list[FetchFigures]) -> list[Alert]:
    """Alerts for each fetch in `window`; `history` (oldest first) supplies baselines."""
    alerts: list[Alert] = []
    earlier: dict[str, list[FetchFigures]] = defaultdict(list)
    in_window = {id(f) for f in window}
    for fig in history:
        if fig.kind not in FETCH_KINDS:
            continue
        if id(fig) in in_window:
            alerts.extend(_alerts_for(fig, earlier[fig.project]))
        if fig.status == "complete" and fig.seconds_per_run:
            earlier[fig.project].append(fig)
    return alerts


def _alerts_for(fig: FetchFigures, previous: list[FetchFigures]) -> list[Alert]:
    out: list[Alert] = []

    def add(level: Level, message: str) -> None:
        out.append(
            Alert(level=level, project=fig.project, day=fig.day, kind=fig.kind, message=message, at=fig.finished_at)
        )

    if fig.status == "failed":
        add(Level.CRITICAL, f"fetch failed: {fig.error or 'see the logs'}; the day is not archived by this fetch")
        return out
    rate = fig.feedback_failure_rate
    if rate is not None and rate > FAILURE_RATE_CRITICAL:
        add(
            Level.CRITICAL,
            f"feedback extraction failed for {fig.runs_feedback_not_fetched} of "
            f"{fig.runs_with_feedback_stats} runs ({rate:.1%} > {FAILURE_RATE_CRITICAL:.0%}); "
            "re-fetch the day before it expires",
        )
    baseline_runs = [p.seconds_per_run for p in previous if p.seconds_per_run]
    if baseline_runs and fig.seconds_per_run:
        baseline = statistics.median(baseline_runs)
        if fig.seconds_per_run > SLOW_FACTOR * baseline:
            add(
                Level.WARNING,
                f"fetch took {fig.seconds_per_run * 1000:.1f} ms/run, "
                f"{fig.seconds_per_run / baseline:.0%} of the baseline {baseline * 1000:.1f} ms/run",
            )
    if fig.status == "complete" and fig.validation_passed:
        add(
            Level.SUCCESS,
            f"feedback validation passed: {fig.runs_feedback_fetched}/{fig.runs_with_feedback_stats} "
            "runs with feedback_stats have their records",
        )
    return out


def worst(alerts: list[Alert]) -> Level | None:
    order = [Level.SUCCESS, Level.INFO, Level.WARNING, Level.CRITICAL]
    levels = [a.level for a in alerts]
    return max(levels, key=order.index) if levels else None


def exit_code(alerts: list[Alert]) -> int:
    level = worst(alerts)
    return EXIT_CODE[level] if level else 0
