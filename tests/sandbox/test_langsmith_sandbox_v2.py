"""The sandbox's v2 run query (`POST /api/v2/runs/query`) and its three server kinds, driven
by the SDK's generated client (`langsmith.Langsmith(...).runs.query`) and raw httpx where
the wire itself is the point."""

from __future__ import annotations

import json
import typing
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from langsmith.types.run_query_v2_params import RunQueryV2Params
from langsmith.types.run_select_field import RunSelectField
from langsmith.types.run_type import RunType

import langsmith
from helpers.langsmith_fixtures import SANDBOX_KEY, sdk_client, small_spec
from lse.langsmith.v2_runs import NOT_SELECTED, SELECTS
from lse.sandbox.langsmith import LangSmithSandbox, ServerApis
from lse.sandbox.langsmith.query_v2 import BODY_KEYS, RUN_TYPES
from lse.sandbox.langsmith.shape_v2 import SELECT_FIELDS

HEADERS = {"x-api-key": SANDBOX_KEY}
DAY_START = "2026-11-20T00:00:00Z"
DAY_END = "2026-11-21T00:00:00Z"


def v2(sb: LangSmithSandbox, body: dict, **kw) -> httpx.Response:
    return httpx.post(f"{sb.url}/api/v2/runs/query", json=body, headers=HEADERS, **kw)


def project_id(sb: LangSmithSandbox) -> str:
    return sb.world.projects["demo-project"]["id"]


def day_body(sb: LangSmithSandbox, **kw) -> dict:
    return {"project_ids": [project_id(sb)], "min_start_time": DAY_START, "max_start_time": DAY_END, **kw}


def day_ids(sb: LangSmithSandbox) -> set[str]:
    lo, hi = datetime(2026, 11, 20), datetime(2026, 11, 21)
    return {rid for rid, row in sb.world.runs.items() if lo <= row.start <= hi}


def test_the_enums_are_the_sdks() -> None:
    assert typing.get_args(RunSelectField) == SELECT_FIELDS
    assert set(SELECTS) | set(NOT_SELECTED) == set(SELECT_FIELDS) and not set(SELECTS) & set(NOT_SELECTED)
    assert set(RUN_TYPES) == set(typing.get_args(RunType))
    assert set(RunQueryV2Params.__annotations__) - {"accept"} == BODY_KEYS  # Accept is a header


def test_generated_client_pages_through_a_day(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    client = langsmith.Langsmith(api_key=SANDBOX_KEY, base_url=sb.url, max_retries=0)
    runs = list(
        client.runs.query(
            project_ids=[project_id(sb)],
            min_start_time=datetime(2026, 11, 20, tzinfo=UTC),
            max_start_time=datetime(2026, 11, 21, tzinfo=UTC),
            selects=["ID", "NAME", "RUN_TYPE", "STATUS", "START_TIME", "PROJECT_ID", "PARENT_RUN_IDS", "TOTAL_COST"],
            page_size=25,
        )
    )
    assert {r.id for r in runs} == day_ids(sb) and len(runs) == len(day_ids(sb)) > 75
    assert all(r.run_type in typing.get_args(RunType) and r.status in ("SUCCESS", "ERROR", "PENDING") for r in runs)
    assert all(r.project_id == project_id(sb) and r.start_time.tzinfo is not None for r in runs)
    sent = [body for _, path, body in sb.counters.requests if path == "/api/v2/runs/query"]
    assert len(sent) == -(-len(runs) // 25)
    assert "cursor" not in sent[0] and all(b["cursor"] for b in sent[1:])


def test_defaults_are_a_24_hour_window_and_only_the_id(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    recent = sb.world.add_trace("demo-project", datetime.now(UTC) - timedelta(hours=2), 2, False, seed=3)
    page = v2(sb, {"project_ids": [project_id(sb)]}).json()
    assert {item["id"] for item in page["items"]} == {r["id"] for r in recent}  # the old day is not there
    assert all(set(item) == {"id", "query_metadata"} for item in page["items"])
    old_day = v2(sb, day_body(sb, page_size=1000)).json()["items"]
    assert {item["id"] for item in old_day} == day_ids(sb)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"selects": ["ID", "LATENCY"]}, "LATENCY"),
        ({"selects": ["id"]}, "unknown fields"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"run_type": "llm"}, "run_type"),
        ({"limit": 100}, "unknown body fields"),
        ({"min_start_time": "yesterday"}, "RFC 3339"),
        ({"ai_search": "slow runs"}, "not served"),
        ({"filter": "eq(nonsense, 1)"}, "nonsense"),
    ],
)
def test_bad_bodies_are_422(langsmith_sandbox: LangSmithSandbox, extra: dict, says: str) -> None:
    r = v2(langsmith_sandbox, day_body(langsmith_sandbox, **extra))
    assert r.status_code == 422 and says in r.json()["detail"]


def test_project_ids_are_required_and_page_sizes_1_and_1000_work(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    assert v2(sb, {"min_start_time": DAY_START}).status_code == 422
    for size in (1, 1000):
        page = v2(sb, day_body(sb, page_size=size)).json()
        assert len(page["items"]) == min(size, len(day_ids(sb)))


def test_cursors_are_opaque_and_continue_only_their_query(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    first = v2(sb, day_body(sb, page_size=10, selects=["ID"])).json()
    cursor = first["next_cursor"]
    assert cursor and not any(item["id"] in cursor or item["id"][:8] in cursor for item in first["items"])
    again = v2(sb, day_body(sb, page_size=10, selects=["ID"], cursor=cursor)).json()
    assert not {i["id"] for i in again["items"]} & {i["id"] for i in first["items"]}
    other = v2(sb, day_body(sb, page_size=10, selects=["ID"], filter="eq(is_root, true)", cursor=cursor))
    assert other.status_code == 422 and "another query" in other.json()["detail"]
    assert v2(sb, day_body(sb, cursor="not-a-cursor")).status_code == 422


def test_items_come_in_a_deterministic_shuffle(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    body = day_body(sb, page_size=1000, selects=["ID", "START_TIME"])
    a, b = (v2(sb, body).json()["items"] for _ in range(2))
    assert a == b
    starts = [item["start_time"] for item in a]
    assert starts != sorted(starts) and starts != sorted(starts, reverse=True)
    assert [i["id"] for i in a] != sorted(i["id"] for i in a)
    roots = v2(sb, {**body, "is_root": True}).json()["items"]
    in_a = [i["id"] for i in a if i["id"] in {r["id"] for r in roots}]
    assert in_a != [r["id"] for r in roots]  # another query, another order


def test_v2_names_shapes_and_usage(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    ids = sb.world.hard_case_ids
    root_id, child_id = ids["midnight_trace"], ids["midnight_child"]
    everything = list(SELECT_FIELDS)
    body = day_body(sb, max_start_time="2026-11-22T00:00:00Z", ids=[root_id, child_id], selects=everything)
    own = {i["id"]: i for i in v2(sb, body).json(parse_float=Decimal)["items"]}
    raw = v2(sb, {**body, "include_subtree_usage": True, "ids": [root_id]})
    rolled = {i["id"]: i for i in raw.json(parse_float=Decimal)["items"]}
    root, child = own[root_id], own[child_id]
    v1_root = sb.world.runs[root_id].data
    assert set(root) == {f.lower() for f in SELECT_FIELDS} | {"query_metadata"}
    assert not {"session_id", "parent_run_id", "trace_tier", "ttl_seconds", "child_run_ids", "serialized"} & set(root)
    assert root["status"] == "SUCCESS" and root["run_type"] == "CHAIN" and child["run_type"] == "LLM"
    assert root["project_id"] == v1_root["session_id"] and child["parent_run_ids"] == [root_id]
    assert root["start_time"] == "2026-11-20T23:59:30.000000Z" and root["is_root"] is True
    assert root["latency_seconds"] == 90.0 and root["metadata"] == v1_root["extra"]["metadata"]
    assert all(e["time"].endswith("Z") for e in root["events"])
    # usage: the run's own by default, its subtree's with include_subtree_usage (v1's figures)
    assert root["total_tokens"] == 0 and root["total_cost"] is None and root["first_token_time"] is None
    assert rolled[root_id]["total_tokens"] == v1_root["total_tokens"] == 1500
    assert rolled[root_id]["total_cost"] == Decimal(v1_root["total_cost"])  # a JSON number, every digit
    assert '"total_cost":0.006000287700,' in raw.text  # a plain number, never through a float
    assert rolled[root_id]["first_token_time"] == child["first_token_time"]
    assert child["prompt_token_details"] == {"raw": sb.world.runs[child_id].data["prompt_token_details"]}
    assert child["prompt_cost_details"]["raw"]["cache_read"] == Decimal(
        sb.world.runs[child_id].data["prompt_cost_details"]["cache_read"]
    )
    stats = v2(sb, day_body(sb, ids=[ids["string_feedback_run"]], selects=["ID", "FEEDBACK_STATS"])).json()
    category = stats["items"][0]["feedback_stats"]["category"]
    assert category["values"] == {"billing": 2, "shipping": 1} and category["n"] == 3
    assert set(category) >= {"min", "max", "contains_thread_feedback"} and all(
        isinstance(s, str) for s in category["sources"]
    )
    no_feedback = v2(sb, day_body(sb, ids=[ids["unicode_run"]], selects=["ID", "FEEDBACK_STATS"])).json()
    assert no_feedback["items"][0]["feedback_stats"] is None


def test_old_self_hosted_has_no_v2(make_langsmith_sandbox) -> None:
    sb = make_langsmith_sandbox([small_spec()], apis=ServerApis.old_self_hosted())
    r = v2(sb, day_body(sb))
    assert r.status_code == 404 and r.json()["detail"]
    info = httpx.get(f"{sb.url}/info", headers=HEADERS).json()
    assert (
        tuple(int(p) for p in info["version"].split(".")) < (0, 16)
        and info["instance_flags"]["sdb_query_enabled"] is False
    )
    with pytest.raises(langsmith.NotFoundError):
        list(
            langsmith.Langsmith(api_key=SANDBOX_KEY, base_url=sb.url, max_retries=0).runs.query(
                project_ids=[project_id(sb)]
            )
        )


def test_deprecated_v1_carries_deprecation_and_sunset(make_langsmith_sandbox) -> None:
    sb = make_langsmith_sandbox([small_spec()], apis=ServerApis.v1_deprecated())
    run_id = sb.world.hard_case_ids["rationale_run"]
    for response in (
        httpx.post(f"{sb.url}/runs/query", json={"session": [project_id(sb)], "limit": 1}, headers=HEADERS),
        httpx.post(f"{sb.url}/api/v1/runs/query", json={"session": [project_id(sb)], "limit": 1}, headers=HEADERS),
        httpx.get(f"{sb.url}/runs/{run_id}", headers=HEADERS),
    ):
        assert response.status_code == 200
        assert response.headers["deprecation"] == "true"
        assert response.headers["sunset"] == "Sun, 31 Jan 2027 00:00:00 GMT"
    for response in (
        httpx.get(f"{sb.url}/feedback", params={"run": run_id}, headers=HEADERS),
        v2(sb, day_body(sb)),
        httpx.get(f"{sb.url}/sessions", params={"name": "demo-project"}, headers=HEADERS),
    ):
        assert response.status_code == 200 and "deprecation" not in response.headers
    with warnings.catch_warnings():  # the SDK itself warns about list_runs
        warnings.simplefilter("ignore")
        assert list(sdk_client(sb).list_runs(project_name="demo-project", limit=3))


@pytest.mark.parametrize("status", [410, 404])
def test_gone_v1_answers_a_json_error_and_v2_still_serves(make_langsmith_sandbox, status: int) -> None:
    sb = make_langsmith_sandbox([small_spec()], apis=ServerApis.v2_only(status=status))
    r = httpx.post(f"{sb.url}/runs/query", json={"session": [project_id(sb)]}, headers=HEADERS)
    assert r.status_code == status and "/api/v2/runs/query" in r.json()["detail"]
    assert httpx.get(f"{sb.url}/runs/{sb.world.hard_case_ids['rationale_run']}", headers=HEADERS).status_code == status
    assert v2(sb, day_body(sb)).status_code == 200
    flags = httpx.get(f"{sb.url}/info", headers=HEADERS).json()["instance_flags"]
    assert flags["ch_query_enabled"] is False and flags["sdb_query_enabled"] is True
    sb.apis = ServerApis()  # switches flip at runtime
    assert httpx.post(f"{sb.url}/runs/query", json={"session": [project_id(sb)]}, headers=HEADERS).status_code == 200


def test_v2_faults_and_counters_use_the_runs_query_kind(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    sb.faults.server_error_every = 1
    sb.faults.only_kinds = {"runs_query"}
    assert v2(sb, day_body(sb)).status_code == 503
    assert sb.counters.kind("runs_query") == 1
    assert json.loads(httpx.get(f"{sb.url}/info", headers=HEADERS).text)["version"]
