"""Archiving through the v2 runs query, with v1 fallback, against the sandbox's three kinds
of LangSmith server, with the real SDK's request layer on the wire."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from helpers.langsmith_fixtures import cross_api_differences, fetch_settings
from lse.archive.reader import iter_stored_runs, read_manifest
from lse.errors import ConfigError, PartialResult
from lse.jobs.fetch import fetch_days
from lse.langsmith.feedback_query import plan_batches
from lse.langsmith.fetch_plan import FAILED_BATCHES_TO_STOP, PROBE_MAX_RETRIES
from lse.langsmith.v2_runs import SELECTS, V1_ONLY_FIELDS
from lse.records.jsonl import dumps_line
from lse.sandbox.langsmith import SandboxSpec, ServerApis

DAY = date(2026, 11, 20)
V2 = "/api/v2/runs/query"
V1 = "/runs/query"


def spec(**kw) -> SandboxSpec:
    base = {"project": "demo-project", "days": [DAY], "traces_per_day": 40, "seed": 11, "hard_cases": True}
    base.update(kw)
    return SandboxSpec(**base)


def bodies(sb, path: str) -> list[dict]:
    return [body for method, p, body in sb.counters.requests if method == "POST" and p == path]


def by_id(runs) -> dict[str, dict]:
    return {str(r["id"]): r for r in runs}


def world_feedback(sb, run_id: str) -> list[str]:
    return [dumps_line(r) for r in sb.world.feedback_for_run(run_id)]


def test_equal_archives_from_v2_only_v1_only_and_v1_deprecated_servers(tmp_path, make_langsmith_sandbox):
    servers = {
        "v2-only": (ServerApis.v2_only(), "auto", "v2"),
        "v1-only": (ServerApis.old_self_hosted(), "auto", "v1"),
        "v1-deprecated": (ServerApis.v1_deprecated(), "auto", "v2"),
        "v1-deprecated, forced v1": (ServerApis.v1_deprecated(), "v1", "v1"),
    }
    archives: dict[str, dict[str, dict]] = {}
    for name, (apis, setting, answered) in servers.items():
        sb = make_langsmith_sandbox([spec()], apis=apis)
        settings = fetch_settings(tmp_path / name, sb, langsmith_run_api=setting)
        report = fetch_days(settings, "demo-project", [DAY])
        assert report.run_api == answered and report.days[0].status == "complete", name
        manifest = read_manifest(settings, "demo-project", DAY)
        assert manifest is not None and manifest.run_api == answered
        deprecated = manifest.fetch.deprecations
        if name == "v1-deprecated, forced v1":
            assert set(deprecated) == {f"POST {V1}"}
            assert deprecated[f"POST {V1}"].sunset == "Sun, 31 Jan 2027 00:00:00 GMT"
        else:
            assert deprecated == {}, name
        archive = by_id(iter_stored_runs(settings, "demo-project", DAY))
        # every run of the project-day, with every native feedback record
        assert set(archive) == {r["id"] for r in sb.world.runs_for_day("demo-project", DAY)}
        for rid, run in archive.items():
            if run.get("feedback_stats"):
                assert run["feedback_fetch_status"] == "fetched"
                assert [dumps_line(r) for r in run["feedback_records"]] == world_feedback(sb, rid)
            else:
                assert run["feedback_records"] == [] and not world_feedback(sb, rid)
        archives[name] = archive
    v1 = archives["v1-only"]
    assert archives["v1-deprecated, forced v1"] == v1
    assert archives["v1-deprecated"] == archives["v2-only"]
    v2 = archives["v2-only"]
    for rid in v1:
        assert cross_api_differences(v1[rid], v2[rid]) == [], rid
        assert not V1_ONLY_FIELDS & set(v2[rid])
        assert v2[rid]["feedback_records"] == v1[rid]["feedback_records"]


def test_a_day_older_than_24_hours_is_archived_fully_through_v2(tmp_path, make_langsmith_sandbox):
    old_day = datetime.now(UTC).date() - timedelta(days=3)
    sb = make_langsmith_sandbox([spec(days=[old_day], traces_per_day=30)], apis=ServerApis.v2_only())
    settings = fetch_settings(tmp_path, sb)
    report = fetch_days(settings, "demo-project", [old_day])
    expected = {r["id"] for r in sb.world.runs_for_day("demo-project", old_day)}
    assert report.days[0].runs == len(expected) > 30 and report.run_api == "v2"
    assert set(by_id(iter_stored_runs(settings, "demo-project", old_day))) == expected
    sent = bodies(sb, V2)
    assert sent and not bodies(sb, V1)
    for body in sent:
        assert body["project_ids"] == [sb.world.projects["demo-project"]["id"]]
        assert body["min_start_time"] and body["max_start_time"]  # never the 24-hour default
        assert body["selects"] == list(SELECTS) and body["page_size"] == 1000
        assert body["include_subtree_usage"] is True
    scan = sent[0]
    assert scan["min_start_time"] == f"{old_day}T00:00:00.000000Z"
    assert scan["max_start_time"] == f"{old_day + timedelta(days=1)}T00:00:00.000000Z"


def test_closure_over_midnight_through_v2(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([spec()], apis=ServerApis.v2_only())
    settings = fetch_settings(tmp_path, sb)
    before = datetime.now(UTC)
    report = fetch_days(settings, "demo-project", [DAY])
    assert report.days[0].crossing_traces >= 1
    hard = sb.world.hard_case_ids
    stored = by_id(iter_stored_runs(settings, "demo-project", DAY))
    assert hard["midnight_child"] in stored  # started after midnight, rooted on DAY
    after_midnight = [
        r for r in stored.values() if r["trace_id"] == hard["midnight_trace"] and r["start_time"] >= "2026-11-21"
    ]
    assert len(after_midnight) == 2
    assert hard["prev_day_child"] not in stored  # started on DAY, rooted the day before
    closure = [b for b in bodies(sb, V2) if "in(trace_id" in b["filter"]]
    assert len(closure) == math.ceil(report.days[0].crossing_traces / 50)
    for body in closure:
        assert hard["midnight_trace"] in body["filter"]
        assert body["min_start_time"] == "2026-11-21T00:00:00.000000Z"
        # an explicit upper bound at or after now (a v2 default would be "now" anyway,
        # but every query names both bounds)
        assert datetime.fromisoformat(body["max_start_time"]) >= before
    # the parent of a child archived through v2 carries its subtree's tokens, as v1 did
    root = stored[hard["midnight_trace"]]
    assert root["total_tokens"] == sb.world.runs[hard["midnight_trace"]].data["total_tokens"] > 0
    assert Decimal(root["total_cost"]) == Decimal(sb.world.runs[hard["midnight_trace"]].data["total_cost"])


def test_a_refetch_through_v2_never_erases_v1_only_fields(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([spec(traces_per_day=10)], apis=ServerApis.v1_deprecated())
    settings = fetch_settings(tmp_path, sb, langsmith_run_api="v1")
    fetch_days(settings, "demo-project", [DAY])
    from_v1 = by_id(iter_stored_runs(settings, "demo-project", DAY))
    assert all(r["trace_tier"] == "shortlived" and "serialized" in r and "ttl_seconds" in r for r in from_v1.values())
    fid = next(f["id"] for rid in from_v1 for f in sb.world.feedback_for_run(rid))
    edited = sb.world.edit_feedback(fid, comment="edited after the v1 fetch")

    report = fetch_days(settings.model_copy(update={"langsmith_run_api": "v2"}), "demo-project", [DAY])
    assert report.run_api == "v2" and report.days[0].status == "complete"
    from_v2 = by_id(iter_stored_runs(settings, "demo-project", DAY))
    assert set(from_v2) == set(from_v1)
    for rid, run in from_v2.items():
        for key in V1_ONLY_FIELDS & set(from_v1[rid]):
            assert dumps_line(run[key]) == dumps_line(from_v1[rid][key]), (rid, key)  # kept, not erased
        assert run["attachments"] is None  # what v2 adds is stored too
    records = [r for run in from_v2.values() for r in run["feedback_records"] or [] if r["id"] == fid]
    assert records == [edited]  # the newer version won
    assert read_manifest(settings, "demo-project", DAY).run_api == "v2"


def test_auto_falls_back_to_v1_once_and_sends_the_window_in_the_body(tmp_path, make_langsmith_sandbox):
    days = [DAY, DAY + timedelta(days=1)]
    sb = make_langsmith_sandbox(
        [spec(days=days, traces_per_day=15, hard_cases=False)], apis=ServerApis.old_self_hosted()
    )
    settings = fetch_settings(tmp_path, sb)
    report = fetch_days(settings, "demo-project", days)
    assert report.run_api == "v1" and [d.run_api for d in report.days] == ["v1", "v1"]
    assert len(bodies(sb, V2)) == 1  # one probe for the whole process, never per page or day
    scans = [b for b in bodies(sb, V1) if "in(trace_id" not in b["filter"]]
    assert [b["start_time"] for b in scans if "cursor" not in b] == [f"{d}T00:00:00.000000Z" for d in days]
    for body in bodies(sb, V1):
        assert body["start_time"] and body["end_time"] and body["session"]
    for day in days:
        assert set(by_id(iter_stored_runs(settings, "demo-project", day))) == {
            r["id"] for r in sb.world.runs_for_day("demo-project", day)
        }


@pytest.mark.parametrize(
    ("apis", "setting", "says"),
    [
        (ServerApis.old_self_hosted(), "v2", "has no v2 runs query"),
        (ServerApis.v2_only(), "v1", "no longer serves the v1 runs query (410"),
        (ServerApis.v2_only(status=404), "v1", "no longer serves the v1 runs query (404"),
    ],
)
def test_a_forced_api_the_server_lacks_is_one_clear_error(tmp_path, make_langsmith_sandbox, apis, setting, says):
    sb = make_langsmith_sandbox([spec(traces_per_day=3, hard_cases=False)], apis=apis)
    settings = fetch_settings(tmp_path, sb, langsmith_run_api=setting)
    with pytest.raises(ConfigError, match=r"LSE_LANGSMITH_RUN_API") as info:
        fetch_days(settings, "demo-project", [DAY, DAY + timedelta(days=1)])
    assert says in str(info.value)
    assert not list((tmp_path / "data").rglob("runs.jsonl"))
    assert sb.counters.kind("runs_query") == 1  # stopped at once, not once per day


def test_v2_pages_of_1000_in_no_order_are_complete(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox([spec(traces_per_day=600, children_per_trace=(2, 4), hard_cases=False)])
    settings = fetch_settings(tmp_path, sb, langsmith_run_api="v2")
    report = fetch_days(settings, "demo-project", [DAY])
    expected = sb.world.runs_for_day("demo-project", DAY)
    assert len(expected) > 2000 and report.days[0].runs == len(expected)
    scan = [b for b in bodies(sb, V2) if "in(trace_id" not in b["filter"]]
    assert len(scan) == math.ceil(len(expected) / 1000)
    assert all("cursor" in b for b in scan[1:]) and "cursor" not in scan[0]


def test_a_dead_feedback_endpoint_stops_after_two_failed_batches(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox(
        [spec(traces_per_day=400, children_per_trace=(0, 2), feedback_trace_share=1.0, hard_cases=False)]
    )
    settings = fetch_settings(tmp_path, sb, max_retries=3)
    runs = sb.world.runs_for_day("demo-project", DAY)
    batches = plan_batches(
        [(r["id"], sum(s["n"] for s in r["feedback_stats"].values())) for r in runs if r["feedback_stats"]]
    )
    assert len(batches) >= 4  # enough that "one retry budget per batch" would show
    sb.faults.feedback_status = 500
    with pytest.raises(PartialResult) as info:
        fetch_days(settings, "demo-project", [DAY])
    day = info.value.details.days[0]
    # one batch with its full retries, then a probe with one retry, then no more calls
    assert FAILED_BATCHES_TO_STOP == 2
    assert sb.counters.kind("feedback") == (settings.max_retries + 1) + (PROBE_MAX_RETRIES + 1)
    stored = list(iter_stored_runs(settings, "demo-project", DAY))
    with_stats = [r for r in stored if r.get("feedback_stats")]
    assert len(with_stats) == day.runs_with_feedback_stats == day.runs_feedback_not_fetched
    for run in with_stats:
        assert run["feedback_records"] is None and run["feedback_fetch_status"] == "not_fetched"
        assert "500" in run["feedback_fetch_error"]
    skipped = [r for r in with_stats if "in a row failed" in r["feedback_fetch_error"]]
    assert skipped and len(skipped) == len(with_stats) - len(batches[0].run_ids) - len(batches[1].run_ids)

    sb.faults.feedback_status = None  # the next fetch fills them in
    again = fetch_days(settings, "demo-project", [DAY])
    assert again.days[0].status == "complete" and again.days[0].runs_feedback_not_fetched == 0


def test_a_feedback_hiccup_does_not_open_the_circuit(tmp_path, make_langsmith_sandbox):
    sb = make_langsmith_sandbox(
        [spec(traces_per_day=400, children_per_trace=(0, 2), feedback_trace_share=1.0, hard_cases=False)]
    )
    settings = fetch_settings(tmp_path, sb, max_retries=1)
    sb.faults.feedback_fail_first = 2  # the first batch fails after its one retry; the next succeeds
    with pytest.raises(PartialResult) as info:
        fetch_days(settings, "demo-project", [DAY])
    day = info.value.details.days[0]
    assert 0 < day.runs_feedback_not_fetched < day.runs_with_feedback_stats / 2
    assert all("in a row failed" not in e for e in day.feedback_errors)


@pytest.mark.parametrize(
    ("apis", "answered"),
    [(ServerApis.v2_only(), "v2"), (ServerApis.old_self_hosted(), "v1"), (ServerApis.v1_deprecated(), "v2")],
    ids=["v2-only", "v1-only", "v1-deprecated"],
)
def test_full_sweep_and_refetch_archive_complete_days_on_every_server_kind(
    tmp_path, make_langsmith_sandbox, apis, answered
):
    from lse.jobs.full_sweep import full_sweep
    from lse.jobs.refetch import refetch_window

    days = [DAY, DAY + timedelta(days=1)]
    sb = make_langsmith_sandbox([spec(days=days, traces_per_day=8)], apis=apis)
    settings = fetch_settings(tmp_path, sb)
    sweep = full_sweep(settings, "demo-project", days[:1])
    assert sweep.complete and sweep.run_api == answered
    assert sweep.days[0].load.runs_inserted == len(sb.world.runs_for_day("demo-project", DAY))
    refetched = refetch_window(settings, "demo-project", days)
    assert refetched.complete and refetched.run_api == answered
    assert [d.runs_after for d in refetched.days] == [len(sb.world.runs_for_day("demo-project", d)) for d in days]
    if answered == "v1":
        assert len(bodies(sb, V2)) == 2  # one probe per command (the sweep, the re-fetch), not per day
    for day in days:
        assert read_manifest(settings, "demo-project", day).run_api == answered
