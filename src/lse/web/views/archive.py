"""The archive pages' figures: a project's date range summed from per-day figures.

Each day's figures come from `lse.store.archive_views.days_figures` (the days not yet
known, together, in three queries over one index range) and are kept in memory until
that day is loaded again — the newest load record of the
day is the cache key — so a page over months costs a handful of small queries once
the days have been seen, and a reload of a day shows at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup
from sqlalchemy import Engine

from lse.errors import UsageError
from lse.store import archive_views as av
from lse.web.charts import Series, paired_hbars, stacked_bars

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 731
CONTINUOUS_AXIS_DAYS = 92  # up to this span the chart shows every calendar day, gaps included
TOP_CRITERIA = 12
PASS, FAIL = "PASS", "FAIL"


class DayFiguresCache:
    """(database, project, day) -> (newest load id, figures); bounded, thread-safe."""

    def __init__(self, size: int = 20_000):
        self._size = size
        self._items: OrderedDict[tuple[str, str, date], tuple[int, av.DayFigures]] = OrderedDict()
        self._lock = threading.Lock()

    def figures(self, engine: Engine, project: str, days: list[date]) -> list[av.DayFigures]:
        if not days:
            return []
        marks = av.load_marks(engine, project, days[0], days[-1])
        db = engine.url.render_as_string(hide_password=True)
        found: dict[date, av.DayFigures] = {}
        with self._lock:
            for day in days:
                hit = self._items.get((db, project, day))
                mark = marks.get(day)
                if hit is not None and mark is not None and hit[0] == mark:
                    self._items.move_to_end((db, project, day))
                    found[day] = hit[1]
        missing = [d for d in days if d not in found]
        if missing:
            fresh = av.days_figures(engine, project, missing)
            with self._lock:
                for day, figures in fresh.items():
                    found[day] = figures
                    mark = marks.get(day)
                    if mark is None:  # a day no load recorded is never cached: nothing would say it changed
                        continue
                    self._items[(db, project, day)] = (mark, figures)
                    self._items.move_to_end((db, project, day))
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return [found[d] for d in days]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


DAY_CACHE = DayFiguresCache()


@dataclass
class CriterionRow:
    name: str
    fail: int
    fail_share: float | None
    passed: int
    pass_share: float | None


@dataclass
class ArchiveSummary:
    project: str
    start: date
    end: date
    days: list[av.DayFigures]
    runs: int = 0
    traces: int = 0
    feedback_records: int = 0
    feedback_status: dict[str, int] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)
    criteria: list[CriterionRow] = field(default_factory=list)
    verdict_chart: Markup = field(default_factory=Markup)
    criteria_chart: Markup = field(default_factory=Markup)

    @property
    def days_archived(self) -> int:
        return sum(1 for d in self.days if d.runs)

    @property
    def feedback_coverage(self) -> float | None:
        """Of runs whose feedback_stats said they have feedback, the share whose records were fetched."""
        fetched = self.feedback_status.get("fetched", 0)
        expected = fetched + self.feedback_status.get("not_fetched", 0)
        return fetched / expected if expected else None

    @property
    def verdict_names(self) -> list[str]:
        return sorted(self.verdicts, key=lambda v: (v not in (PASS, FAIL), v != PASS, v))


def parse_day(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(f"{name} must be a date like 2026-11-20, got {value!r}") from exc


def resolve_range(engine: Engine, project: str, start: date | None, end: date | None) -> tuple[date, date]:
    """The asked range; by default the DEFAULT_DAYS days ending on the project's newest day."""
    if end is None:
        newest = av.last_day(engine, project)
        end = max(newest, start) if newest and start else (newest or start or date.today())
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise UsageError(f"the start date {start} is after the end date {end}")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise UsageError(f"a range spans at most {MAX_RANGE_DAYS} days; {start}..{end} is longer")
    return start, end


def archive_summary(
    engine: Engine, project: str, start: date, end: date, *, cache: DayFiguresCache = DAY_CACHE
) -> ArchiveSummary:
    days = av.archived_days(engine, project, start, end)
    figures = cache.figures(engine, project, days)
    out = ArchiveSummary(project=project, start=start, end=end, days=figures)
    criteria: dict[str, dict[str, int]] = {}
    for f in figures:
        out.runs += f.runs
        out.traces += f.traces
        out.feedback_records += f.feedback_records
        for k, n in f.feedback_status.items():
            out.feedback_status[k] = out.feedback_status.get(k, 0) + n
        for k, n in f.verdicts.items():
            out.verdicts[k] = out.verdicts.get(k, 0) + n
        for verdict, by in f.criteria.items():
            acc = criteria.setdefault(verdict, {})
            for name, n in by.items():
                acc[name] = acc.get(name, 0) + n
    out.criteria = _criteria_rows(criteria, out.verdicts)
    out.verdict_chart = _verdict_chart(out)
    out.criteria_chart = _criteria_chart(out.criteria[:TOP_CRITERIA])
    return out


def _share(n: int, total: int) -> float | None:
    return n / total if total else None


def _criteria_rows(criteria: dict[str, dict[str, int]], verdicts: dict[str, int]) -> list[CriterionRow]:
    fail, passed = criteria.get(FAIL, {}), criteria.get(PASS, {})
    rows = [
        CriterionRow(
            name=name,
            fail=fail.get(name, 0),
            fail_share=_share(fail.get(name, 0), verdicts.get(FAIL, 0)),
            passed=passed.get(name, 0),
            pass_share=_share(passed.get(name, 0), verdicts.get(PASS, 0)),
        )
        for name in set(fail) | set(passed)
    ]
    rows.sort(key=lambda r: (-(r.fail_share or 0), -(r.pass_share or 0), r.name))
    return rows


def chart_days(summary: ArchiveSummary) -> list[date]:
    """The x axis: every calendar day between the first and last archived day when the
    span is short (gaps show as gaps), only the archived days otherwise."""
    archived = [d.day for d in summary.days]
    if not archived:
        return []
    first, last = archived[0], archived[-1]
    if (last - first).days < CONTINUOUS_AXIS_DAYS:
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return archived


def _verdict_chart(summary: ArchiveSummary) -> Markup:
    by_day = {d.day: d.verdicts for d in summary.days}
    axis = chart_days(summary)
    labels = [d.isoformat() for d in axis]
    others = [v for v in summary.verdict_names if v not in (PASS, FAIL)]
    series = [
        Series(PASS, [by_day.get(d, {}).get(PASS, 0) for d in axis], "s-pass"),
        Series(FAIL, [by_day.get(d, {}).get(FAIL, 0) for d in axis], "s-fail"),
    ]
    if others:
        series.append(Series("other", [sum(by_day.get(d, {}).get(v, 0) for v in others) for d in axis], "s-other"))
    return stacked_bars("verdicts-chart", "Verdicts per day", labels, series)


def _criteria_chart(rows: list[CriterionRow]) -> Markup:
    return paired_hbars(
        "criteria-chart",
        "Share of FAIL and of PASS verdicts on which each rationale criterion was true",
        [r.name for r in rows],
        [
            Series("on FAIL", [round((r.fail_share or 0) * 100, 1) for r in rows], "s-fail"),
            Series("on PASS", [round((r.pass_share or 0) * 100, 1) for r in rows], "s-pass"),
        ],
    )
