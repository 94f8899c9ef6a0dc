"""The viewer's archive queries against what LangSmith holds, on SQLite and PostgreSQL.

The archive is fetched from the LangSmith sandbox and loaded by the real full sweep; the
expected numbers are counted from the sandbox's own world, never from the queries.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr
from world import ACME_PROJECT, DAYS, matching, truth_of

from lse.jobs.full_sweep import full_sweep
from lse.sandbox.langsmith import LangSmithSandbox, SandboxSpec
from lse.settings import Settings
from lse.store import archive_views as av
from lse.store.engine import get_engine
from lse.web.views.archive import DayFiguresCache, archive_summary


@pytest.fixture
def archived(db_settings: Settings):
    spec = SandboxSpec(project=ACME_PROJECT, days=DAYS, traces_per_day=12, children_per_trace=(0, 3), seed=11)
    other = SandboxSpec(project="zz-other", days=DAYS[:1], traces_per_day=3, seed=2, hard_cases=False)
    with LangSmithSandbox([spec, other], api_key="k") as sb:
        settings = db_settings.model_copy(update={"langsmith_endpoint": sb.url, "langsmith_api_key": SecretStr("k")})
        full_sweep(settings, ACME_PROJECT, DAYS, None)
        full_sweep(settings, "zz-other", DAYS[:1], None)
        yield get_engine(settings), truth_of(sb, ACME_PROJECT, DAYS), sb


def test_projects_days_and_day_figures_match_langsmith(archived):
    engine, truth, _ = archived
    assert av.archive_projects(engine) == [ACME_PROJECT, "zz-other"]
    assert av.archived_days(engine, ACME_PROJECT) == DAYS
    assert av.archived_days(engine, ACME_PROJECT, DAYS[1], DAYS[1]) == [DAYS[1]]
    assert av.archived_days(engine, ACME_PROJECT, date(2020, 1, 1), date(2020, 12, 31)) == []
    assert av.last_day(engine, ACME_PROJECT) == DAYS[-1]
    assert av.last_day(engine, "nobody") is None
    for day in DAYS:
        f = av.day_figures(engine, ACME_PROJECT, day)
        t = truth[day]
        assert (f.runs, f.traces) == (t.runs, t.traces), day
        assert f.verdicts == t.verdicts, day
        assert f.criteria == {v: c for v, c in t.criteria.items() if c}, day
        assert sum(f.feedback_status.values()) == t.runs
        assert f.feedback_status["not_fetched"] == 0 and f.feedback_status["fetched"] > 0


FILTERS = [(None, None, True), ("FAIL", None, True), ("PASS", "criteria_b", False), (None, "decision_factor_1", False)]


def _all_pages(engine, verdict, criterion, roots) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = av.runs_page(
            engine,
            ACME_PROJECT,
            DAYS[0],
            DAYS[-1],
            verdict=verdict,
            criterion=criterion,
            roots_only=roots,
            cursor=cursor,
            limit=7,
        )
        assert len(page.runs) <= 7
        seen += [r.run_id for r in page.runs]
        days = [r.run_date for r in page.runs]
        assert days == sorted(days, reverse=True)  # newest day first
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_runs_pages_follow_the_filters_and_page_through_everything(archived):
    engine, truth, _ = archived
    for verdict, criterion, roots in FILTERS:
        if verdict is None and criterion is None:
            expected = set().union(*(t.roots for t in truth.values()))
        else:
            expected = matching(truth, verdict, criterion, roots=roots)
        assert expected, "the sandbox world should hold runs for every filter tried"
        seen = _all_pages(engine, verdict, criterion, roots)
        assert len(seen) == len(set(seen))
        assert set(seen) == expected, (verdict, criterion, roots)


def test_a_run_its_feedback_and_its_trace(archived):
    engine, _, sb = archived
    root = next(r for r in sb.world.runs_for_day(ACME_PROJECT, DAYS[0]) if sb.world.feedback_for_run(r["id"]))
    run = av.run_with_feedback(engine, root["id"])
    assert run is not None and run.project == ACME_PROJECT
    native = sb.world.feedback_for_run(root["id"])
    assert {f.feedback_id for f in run.feedback} == {f["id"] for f in native}
    by_id = {f["id"]: f for f in native}
    for f in run.feedback:
        assert f.value == by_id[f.feedback_id].get("value")
        assert f.comment == by_id[f.feedback_id].get("comment")
        assert f.correction == by_id[f.feedback_id].get("correction")
    trace = av.trace_runs(engine, ACME_PROJECT, run.trace_id)
    assert {r.run_id for r in trace} == {r["id"] for r in sb.world.trace_of(root["id"])}
    assert av.trace_runs(engine, "zz-other", run.trace_id) == []  # a trace is read within its project
    assert av.run_with_feedback(engine, "00000000-0000-0000-0000-000000000000") is None


def test_day_figures_are_kept_until_the_day_is_loaded_again(archived, db_settings):
    engine, truth, sb = archived
    cache = DayFiguresCache()
    first = archive_summary(engine, ACME_PROJECT, DAYS[0], DAYS[-1], cache=cache)
    assert first.runs == sum(t.runs for t in truth.values())
    again = archive_summary(engine, ACME_PROJECT, DAYS[0], DAYS[-1], cache=cache)
    assert [id(d) for d in again.days] == [id(d) for d in first.days]  # served from the cache
    # A reviewer changes a verdict upstream; the day is fetched and loaded again.
    fb = next(
        f
        for r in sb.world.runs_for_day(ACME_PROJECT, DAYS[1])
        for f in sb.world.feedback_for_run(r["id"])
        if isinstance(f.get("value"), dict) and f["value"].get("verdict") == "PASS"
    )
    sb.world.edit_feedback(fb["id"], value={**fb["value"], "verdict": "FAIL"})
    settings = db_settings.model_copy(update={"langsmith_endpoint": sb.url, "langsmith_api_key": SecretStr("k")})
    full_sweep(settings, ACME_PROJECT, [DAYS[1]], None)
    after = archive_summary(engine, ACME_PROJECT, DAYS[0], DAYS[-1], cache=cache)
    assert after.verdicts["FAIL"] == first.verdicts.get("FAIL", 0) + 1
    assert after.verdicts["PASS"] == first.verdicts["PASS"] - 1
    assert id(after.days[0]) == id(first.days[0]) and id(after.days[1]) != id(first.days[1])
