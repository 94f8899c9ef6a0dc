"""Fetching project-days from the local LangSmith-compatible server with the real SDK."""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal

import pytest

from helpers.langsmith_fixtures import cross_api_differences
from lse.archive.layout import manifest_path, runs_path
from lse.archive.reader import iter_stored_runs, read_manifest
from lse.errors import AuthError, NotFoundError, PartialResult
from lse.jobs.fetch import fetch_days
from lse.langsmith.fetch_plan import CLOSURE_TRACES_PER_QUERY
from lse.records.jsonl import dumps_line
from lse.sandbox.langsmith import SandboxSpec
from lse.settings import Settings

DAY = date(2026, 11, 20)
KEY = "sandbox-key"


def spec(**kw) -> SandboxSpec:
    base = {"project": "demo-project", "days": [DAY], "traces_per_day": 40, "seed": 11, "hard_cases": True}
    base.update(kw)
    return SandboxSpec(**base)


def cfg(tmp_path, sb, **kw) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        langsmith_endpoint=sb.url,
        langsmith_api_key=KEY,
        request_delay_ms=0,
        retry_base_wait_s=0.01,
        retry_max_wait_s=0.2,
        **kw,
    )


def report_lookup_requests(sb) -> int:
    """Requests the project lookup took (1, or more when a fault hit it)."""
    return sb.counters.kind("sessions")


def by_id(runs):
    return {str(r["id"]): r for r in runs}


@pytest.mark.parametrize("run_api", ["v2", "v1"])
def test_day_is_every_run_of_traces_rooted_that_day(tmp_path, make_langsmith_sandbox, run_api):
    sb = make_langsmith_sandbox([spec()], api_key=KEY)
    report = fetch_days(cfg(tmp_path, sb, langsmith_run_api=run_api), "demo-project", [DAY])
    day = report.days[0]
    assert day.run_api == run_api == read_manifest(cfg(tmp_path, sb), "demo-project", DAY).run_api
    stored = by_id(iter_stored_runs(cfg(tmp_path, sb), "demo-project", DAY))
    expected = by_id(sb.world.runs_for_day("demo-project", DAY))
    assert set(stored) == set(expected)
    assert day.status == "complete" and day.runs == len(expected)
    hard = sb.world.hard_case_ids
    # a child that started after midnight of a trace rooted on DAY is here ...
    midnight_trace = str(hard["midnight_trace"])
    after = [
        r for r in stored.values() if str(r["trace_id"]) == midnight_trace and str(r["start_time"]) >= "2026-11-21"
    ]
    assert after, "children after midnight of a trace rooted on the day must be archived"
    # ... and every run is a run of a trace whose root is in the archive
    roots = {rid for rid, r in stored.items() if not r.get("parent_run_id")}
    assert all(str(r["trace_id"]) in roots for r in stored.values())
    # v1: the run fields are exactly what the API returned (feedback_stats untouched);
    # v2: the same run, mapped to the v1 shape, reads the same but for what v2 lacks
    for rid, run in expected.items():
        if run_api == "v1":
            for key, value in run.items():
                assert dumps_line(stored[rid][key]) == dumps_line(value), (rid, key)
        else:
            assert cross_api_differences(run, stored[rid]) == [], rid


def test_every_native_feedback_record_is_captured(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([spec()], api_key=KEY)
    settings = cfg(tmp_path, sb)
    fetch_days(settings, "demo-project", [DAY])
    stored = by_id(iter_stored_runs(settings, "demo-project", DAY))
    for rid, run in stored.items():
        native = sb.world.feedback_for_run(rid)
        if run.get("feedback_stats"):
            assert run["feedback_fetch_status"] == "fetched"
            assert {f["id"] for f in run["feedback_records"]} == {str(f["id"]) for f in native}
        else:
            assert run["feedback_records"] == [] and run["feedback_fetch_status"] == "none"
    hard = sb.world.hard_case_ids
    rationale = stored[str(hard["rationale_run"])]
    verdict = [f for f in rationale["feedback_records"] if isinstance(f["value"], dict)]
    assert verdict and "rationale" in verdict[0]["value"]
    assert rationale["feedback_stats"][verdict[0]["key"]]["values"] == {}
    assert len(stored[str(hard["many_feedback_run"])]["feedback_records"]) > 100
    child = stored[str(hard["child_feedback_run"])]
    assert child["parent_run_id"] and child["feedback_records"]


@pytest.mark.parametrize(("run_api", "page"), [("v2", 1000), ("v1", 100)])
def test_requests_are_the_minimum_the_api_allows(tmp_path, make_langsmith_sandbox, run_api, page):
    sb = make_langsmith_sandbox([spec(traces_per_day=300, hard_cases=False)], api_key=KEY)
    report = fetch_days(cfg(tmp_path, sb, langsmith_run_api=run_api), "demo-project", [DAY])
    d = report.days[0]
    scanned = sum(1 for r in sb.world.runs_for_day("demo-project", DAY))
    assert scanned > 1000  # more than one v2 page
    pages = math.ceil(scanned / page)
    closure = math.ceil(d.crossing_traces / CLOSURE_TRACES_PER_QUERY)
    minimum = 1 + pages + closure + math.ceil(d.feedback_records / 100)
    assert d.requests <= math.ceil(minimum * 1.1) + 1, (d.requests, minimum)
    assert sb.counters.total == d.requests + 1  # + the one project lookup


def test_rerun_of_a_complete_day_is_identical(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([spec()], api_key=KEY)
    settings = cfg(tmp_path, sb)
    fetch_days(settings, "demo-project", [DAY])
    first = runs_path(settings, "demo-project", DAY).read_bytes()
    fetch_days(settings, "demo-project", [DAY])
    assert runs_path(settings, "demo-project", DAY).read_bytes() == first
    manifest = read_manifest(settings, "demo-project", DAY)
    assert manifest.status == "complete" and manifest.counts.runs == first.count(b"\n")


@pytest.mark.parametrize(
    "faults",
    [
        {"rate_limit_every": 3, "retry_after_s": 0.05},
        {"rate_limit_every": 4, "rate_limit_html": True},
        {"server_error_every": 3, "server_error_status": 503},
        {"server_error_every": 4, "server_error_status": 500},
        {"reset_every": 4},
        {"latency_ms": 30},
        {"feedback_fail_first": 2},
    ],
    ids=["429-retry-after", "429-html", "503", "500", "reset", "latency", "feedback-flaky"],
)
def test_faults_are_retried_and_counted(tmp_path, make_langsmith_sandbox, faults):
    sb = make_langsmith_sandbox([spec(traces_per_day=20)], api_key=KEY)
    for name, value in faults.items():
        setattr(sb.faults, name, value)
    report = fetch_days(cfg(tmp_path, sb), "demo-project", [DAY])
    d = report.days[0]
    assert d.status == "complete"
    assert d.runs == len(sb.world.runs_for_day("demo-project", DAY))
    if "latency_ms" not in faults:
        assert d.retries > 0
        assert d.rate_limited + d.errors == d.retries
    if "rate_limit_every" in faults:
        assert d.rate_limited > 0
    lookup = report_lookup_requests(sb)
    assert sb.counters.total == d.requests + lookup


@pytest.mark.parametrize("status", [500, 403])
def test_feedback_failure_degrades_gracefully_and_refetch_fills_the_gap(tmp_path, make_langsmith_sandbox, status):
    sb = make_langsmith_sandbox([spec(traces_per_day=20)], api_key=KEY)
    settings = cfg(tmp_path, sb, max_retries=1)
    sb.faults.feedback_status = status
    with pytest.raises(PartialResult) as info:
        fetch_days(settings, "demo-project", [DAY])
    assert "incomplete" in str(info.value)
    stored = list(iter_stored_runs(settings, "demo-project", DAY))
    assert len(stored) == len(sb.world.runs_for_day("demo-project", DAY))
    with_stats = [r for r in stored if r.get("feedback_stats")]
    assert with_stats
    for run in with_stats:
        assert run["feedback_records"] is None  # unknown, never []
        assert run["feedback_fetch_status"] == "not_fetched"
        assert str(status) in run["feedback_fetch_error"]
    assert read_manifest(settings, "demo-project", DAY).status == "incomplete"

    sb.faults.feedback_status = None
    report = fetch_days(settings, "demo-project", [DAY])
    assert report.days[0].status == "complete"
    for run in iter_stored_runs(settings, "demo-project", DAY):
        if run.get("feedback_stats"):
            assert run["feedback_fetch_status"] == "fetched" and run["feedback_records"]


def test_unknown_project_and_bad_key_are_clear_errors(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([spec(traces_per_day=2, hard_cases=False)], api_key=KEY)
    with pytest.raises(NotFoundError, match="no project named 'nope'"):
        fetch_days(cfg(tmp_path, sb), "nope", [DAY])
    bad = cfg(tmp_path, sb).model_copy(update={"langsmith_api_key": __import__("pydantic").SecretStr("wrong")})
    with pytest.raises(AuthError, match="LANGSMITH_API_KEY"):
        fetch_days(bad, "demo-project", [DAY])


def test_range_of_days_uses_one_project_lookup(tmp_path, make_langsmith_sandbox):
    days = [DAY, date(2026, 11, 21)]
    sb = make_langsmith_sandbox([spec(days=days, traces_per_day=10, hard_cases=False)], api_key=KEY)
    settings = cfg(tmp_path, sb)
    report = fetch_days(settings, "demo-project", days)
    assert [d.date for d in report.days] == days
    assert sb.counters.by_kind.get("sessions") == 1
    ids = [set(by_id(iter_stored_runs(settings, "demo-project", d))) for d in days]
    assert not (ids[0] & ids[1])
    for d in days:
        assert set(ids[days.index(d)]) == set(by_id(sb.world.runs_for_day("demo-project", d)))


@pytest.mark.parametrize("run_api", ["v2", "v1"])
def test_costs_survive_without_loss(tmp_path, make_langsmith_sandbox, run_api):
    sb = make_langsmith_sandbox([spec(traces_per_day=5, hard_cases=False)], api_key=KEY)
    settings = cfg(tmp_path, sb, langsmith_run_api=run_api)
    fetch_days(settings, "demo-project", [DAY])
    text = runs_path(settings, "demo-project", DAY).read_text()
    stored = by_id(iter_stored_runs(settings, "demo-project", DAY))
    costs = 0
    for run in sb.world.runs_for_day("demo-project", DAY):
        for field in ("total_cost", "prompt_cost", "completion_cost"):
            cost = run.get(field)
            if cost is None:
                continue
            costs += 1
            mine = stored[run["id"]][field]
            assert isinstance(mine, str) and Decimal(mine) == Decimal(cost)  # a decimal string, the same amount
            if run_api == "v1":
                assert dumps_line(cost) in text  # as v1 spelled it
    assert costs > 0
    assert json.loads(manifest_path(settings, "demo-project", DAY).read_text())["format_version"] == 1


def test_a_failed_fetch_is_recorded_and_alerts_critical(tmp_path, make_langsmith_sandbox):
    from lse.errors import UpstreamError
    from lse.monitoring.status import build_status

    sb = make_langsmith_sandbox([spec(traces_per_day=5, hard_cases=False)], api_key=KEY)
    settings = cfg(tmp_path, sb).model_copy(update={"max_retries": 1})
    sb.faults.server_error_every = 1
    sb.faults.only_kinds = {"runs_query"}
    with pytest.raises(UpstreamError, match="failed"):
        fetch_days(settings, "demo-project", [DAY])
    status = build_status(settings, project="demo-project")
    assert status.exit_code == 2
    crit = [a for a in status.alerts if a.level == "CRITICAL"]
    assert crit and "fetch failed" in crit[0].message and crit[0].day == DAY
    assert status.fetches[0].status == "failed" and status.fetches[0].requests == 2


def test_a_second_writer_of_the_same_day_waits_for_the_first(tmp_path, make_langsmith_sandbox):
    import threading
    import time

    from lse.archive.day_lock import locked_day

    sb = make_langsmith_sandbox([spec(traces_per_day=5, hard_cases=False)], api_key=KEY)
    settings = cfg(tmp_path, sb)
    done = threading.Event()
    with locked_day(settings, "demo-project", DAY):  # another fetch is mid read-merge-write
        worker = threading.Thread(target=lambda: (fetch_days(settings, "demo-project", [DAY]), done.set()))
        worker.start()
        time.sleep(0.5)
        assert not done.is_set() and not runs_path(settings, "demo-project", DAY).exists()
    worker.join(timeout=30)
    assert done.is_set() and runs_path(settings, "demo-project", DAY).is_file()
