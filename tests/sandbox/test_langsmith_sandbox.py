"""The LangSmith sandbox, driven by the real `langsmith` SDK over loopback (and raw httpx
where the wire itself is the point: status codes, headers, bodies)."""

from __future__ import annotations

import json
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

import langsmith
from helpers.langsmith_fixtures import SANDBOX_DAY, SANDBOX_KEY, sdk_client, small_spec
from langsmith import utils as ls_utils
from lse.sandbox.langsmith import Faults, LangSmithSandbox, SandboxSpec, World

HEADERS = {"x-api-key": SANDBOX_KEY}
DAY_FILTER = 'and(gte(start_time, "2026-11-20T00:00:00Z"), lt(start_time, "2026-11-21T00:00:00Z"))'


def _ids(runs) -> list[str]:
    return [str(r.id) for r in runs]


# ---- protocol basics ------------------------------------------------------------------------
def test_sdk_reads_info_and_project_without_warnings(langsmith_sandbox: LangSmithSandbox) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = sdk_client(langsmith_sandbox)
        info = client.info
        project = client.read_project(project_name="demo-project")
    assert set(info.batch_ingest_config) >= {
        "use_multipart_endpoint",
        "scale_up_qsize_trigger",
        "scale_up_nthreads_limit",
        "scale_down_nempty_trigger",
        "size_limit",
        "size_limit_bytes",
    }
    assert info.version and info.instance_flags["ch_query_enabled"] is True
    assert str(project.id) == langsmith_sandbox.world.projects["demo-project"]["id"]
    assert project.run_count == len(langsmith_sandbox.world.runs)
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.read_project(project_name="no-such-project")
    assert client.read_project(project_id=str(project.id)).name == "demo-project"


def test_paths_are_served_at_root_and_under_api_v1(langsmith_sandbox: LangSmithSandbox) -> None:
    for prefix in ("", "/api/v1"):
        r = httpx.get(f"{langsmith_sandbox.url}{prefix}/info", headers=HEADERS)
        assert r.status_code == 200 and r.json()["version"]
    client = langsmith.Client(api_url=langsmith_sandbox.url + "/api/v1", api_key=SANDBOX_KEY)
    assert client.read_project(project_name="demo-project").name == "demo-project"


def test_wrong_or_missing_key_is_401(langsmith_sandbox: LangSmithSandbox) -> None:
    r = httpx.get(f"{langsmith_sandbox.url}/sessions", params={"name": "demo-project"}, headers={"x-api-key": "wrong"})
    assert r.status_code == 401 and "detail" in r.json()
    assert httpx.get(f"{langsmith_sandbox.url}/info").status_code == 401
    with pytest.raises(ls_utils.LangSmithAuthError):
        sdk_client(langsmith_sandbox, api_key="wrong").read_project(project_name="demo-project")
    assert langsmith_sandbox.counters.unauthorized_sent == 3


def test_limit_over_100_is_400(langsmith_sandbox: LangSmithSandbox) -> None:
    url = langsmith_sandbox.url
    r = httpx.post(f"{url}/runs/query", json={"limit": 101}, headers=HEADERS)
    assert r.status_code == 400 and "100" in r.json()["detail"]
    r = httpx.get(f"{url}/feedback", params={"limit": 101}, headers=HEADERS)
    assert r.status_code == 400 and "100" in r.json()["detail"]
    r = httpx.post(f"{url}/runs/query", json={"filter": "eq(nonsense, 1)"}, headers=HEADERS)
    assert r.status_code == 400 and "nonsense" in r.json()["detail"]


# ---- runs -------------------------------------------------------------------------------------
def test_list_runs_day_filter_pages_over_100_runs(make_langsmith_sandbox) -> None:
    days = [date(2026, 11, 20), date(2026, 11, 21)]
    sb = make_langsmith_sandbox([small_spec(days=days, traces_per_day=60, children_per_trace=(2, 4))])
    client = sdk_client(sb)
    runs = list(client.list_runs(project_name="demo-project", filter=DAY_FILTER))
    lo, hi = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    expected = sorted(
        (
            (r.start, r.data["id"])
            for r in sb.world.runs.values()
            if lo.replace(tzinfo=None) <= r.start < hi.replace(tzinfo=None)
        ),
        reverse=True,
    )
    assert len(expected) > 250
    assert _ids(runs) == [rid for _, rid in expected]  # default order: start_time desc, then id
    assert all(lo <= r.start_time < hi for r in runs)
    pages = -(-len(expected) // 100)
    assert sb.counters.kind("runs_query") == pages  # no trailing empty page

    asc = list(client.list_runs(project_name="demo-project", filter=DAY_FILTER, order="asc"))
    assert _ids(asc) == _ids(runs)[::-1]
    bodies = [body for method, path, body in sb.counters.requests if path == "/runs/query"]
    assert all("cursor" in b for b in bodies[1:pages]) and "cursor" not in bodies[pages]
    assert bodies[0]["filter"] == DAY_FILTER


def test_run_query_fields_and_filters(langsmith_sandbox: LangSmithSandbox) -> None:
    world = langsmith_sandbox.world
    client = sdk_client(langsmith_sandbox)
    trace_id = world.hard_case_ids["midnight_trace"]
    trace = list(client.list_runs(project_name="demo-project", trace_id=trace_id))
    assert {str(r.trace_id) for r in trace} == {trace_id} and len(trace) == 5
    roots = list(client.list_runs(project_name="demo-project", is_root=True))
    assert roots and all(r.parent_run_id is None for r in roots)
    picked = [str(r.id) for r in trace[:2]]
    assert sorted(_ids(client.list_runs(run_ids=picked))) == sorted(picked)
    via_in = list(client.list_runs(project_name="demo-project", filter=f'in(id, ["{picked[0]}", "{picked[1]}"])'))
    assert sorted(_ids(via_in)) == sorted(picked)
    errors = list(client.list_runs(project_name="demo-project", filter="neq(error, null)"))
    assert world.hard_case_ids["error_run"] in _ids(errors) and all(r.error for r in errors)
    llm_after_midnight = list(
        client.list_runs(
            project_name="demo-project",
            filter='and(eq(run_type, "llm"), gte(start_time, "2026-11-21T00:00:00"), not(eq(is_root, true)))',
        )
    )
    assert world.hard_case_ids["midnight_child"] in _ids(llm_after_midnight)
    on_tagged_roots = list(
        client.list_runs(
            project_name="demo-project", trace_filter='has(tags, "production")', filter="eq(is_root, false)"
        )
    )
    assert on_tagged_roots and all(r.parent_run_id is not None for r in on_tagged_roots)
    narrow = httpx.post(
        f"{langsmith_sandbox.url}/runs/query", headers=HEADERS, json={"id": picked, "select": ["inputs"]}
    ).json()["runs"]
    assert set(narrow[0]) == {"id", "name", "run_type", "start_time", "trace_id", "dotted_order", "inputs"}


def test_run_json_is_native_shaped_with_decimal_string_costs(langsmith_sandbox: LangSmithSandbox) -> None:
    world = langsmith_sandbox.world
    root_id = world.hard_case_ids["midnight_trace"]
    raw = httpx.get(f"{langsmith_sandbox.url}/runs/{root_id}", headers=HEADERS)
    data = json.loads(raw.text, parse_float=Decimal)
    for field in (
        "id",
        "name",
        "run_type",
        "start_time",
        "end_time",
        "extra",
        "error",
        "serialized",
        "events",
        "inputs",
        "outputs",
        "reference_example_id",
        "parent_run_id",
        "tags",
        "session_id",
        "child_run_ids",
        "dotted_order",
        "trace_id",
        "status",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_cost",
        "completion_cost",
        "total_cost",
        "first_token_time",
        "feedback_stats",
        "app_path",
        "manifest_id",
        "in_dataset",
        "parent_run_ids",
    ):
        assert field in data, field
    # v1 writes Decimals as strings (pydantic), every digit kept
    assert isinstance(data["total_cost"], str) and data["total_cost"] == world.runs[root_id].data["total_cost"]
    assert Decimal(data["total_cost"]) == Decimal("0.006000287700") and "E" not in data["total_cost"]
    assert data["prompt_cost_details"] is None  # a root: details stay on its LLM runs
    assert data["start_time"] == "2026-11-20T23:59:30.000000"
    run = sdk_client(langsmith_sandbox).read_run(root_id)
    assert run.total_cost == Decimal(data["total_cost"]) and run.total_tokens == 1500 + 0
    assert (
        httpx.get(f"{langsmith_sandbox.url}/runs/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=HEADERS).status_code
        == 404
    )


def test_hard_cases_survive_the_sdk(langsmith_sandbox: LangSmithSandbox) -> None:
    world, ids = langsmith_sandbox.world, langsmith_sandbox.world.hard_case_ids
    client = sdk_client(langsmith_sandbox)
    nul = client.read_run(ids["nul_run"])
    assert nul.inputs["text"] == "before\u0000after" and "\u2028" in nul.inputs["exotic"]
    assert "مرحبا" in client.read_run(ids["unicode_run"]).inputs["question"]
    assert len(client.read_run(ids["large_run"]).outputs["document"]) >= 200_000
    node, depth = client.read_run(ids["deep_run"]).inputs["tree"], 1
    while "child" in node:
        node, depth = node["child"], depth + 1
    assert depth == 60
    # project-day membership: by the trace root's start day
    day_ids = {r["id"] for r in world.runs_for_day("demo-project", SANDBOX_DAY)}
    next_day = world.runs_for_day("demo-project", SANDBOX_DAY + timedelta(days=1))
    assert ids["midnight_child"] in day_ids and not next_day
    assert world.runs[ids["midnight_child"]].start.date() == SANDBOX_DAY + timedelta(days=1)
    assert world.runs[ids["prev_day_child"]].start.date() == SANDBOX_DAY
    assert ids["prev_day_child"] not in day_ids
    assert {r["id"] for r in world.runs_for_day("demo-project", SANDBOX_DAY - timedelta(days=1))} == {
        ids["prev_day_trace"],
        ids["prev_day_child"],
    }


# ---- feedback ---------------------------------------------------------------------------------
def test_list_feedback_pages_250_records_in_stable_order(langsmith_sandbox: LangSmithSandbox) -> None:
    world = langsmith_sandbox.world
    run_id = world.hard_case_ids["many_feedback_run"]
    feedback = list(sdk_client(langsmith_sandbox).list_feedback(run_ids=[run_id]))
    assert len(feedback) == 250
    assert langsmith_sandbox.counters.kind("feedback") == 3
    keys = [(f.created_at, str(f.id)) for f in feedback]
    assert keys == sorted(keys) and len(set(keys)) == 250
    assert [str(f.id) for f in feedback] == [r["id"] for r in world.feedback_for_run(run_id)]


def test_list_feedback_for_many_runs(langsmith_sandbox: LangSmithSandbox) -> None:
    world = langsmith_sandbox.world
    run_ids = [rid for rid in world.runs if world.feedback_for_run(rid)]
    expected = sum(len(world.feedback_for_run(r)) for r in run_ids)
    assert expected > 100
    got = list(sdk_client(langsmith_sandbox).list_feedback(run_ids=run_ids))
    assert len(got) == expected and len({f.id for f in got}) == expected
    sent = next(body for _, path, body in langsmith_sandbox.counters.requests if path == "/feedback")
    assert len(sent["run"]) == len(run_ids)
    verdicts = list(sdk_client(langsmith_sandbox).list_feedback(run_ids=run_ids, feedback_key=["final_verdict"]))
    assert verdicts and all(f.key == "final_verdict" for f in verdicts)
    v = verdicts[0].value
    assert v["verdict"] in ("PASS", "FAIL") and set(v["rationale"]) == {
        "criteria_a",
        "criteria_b",
        "criteria_c",
        "criteria_d",
        "decision_factor_1",
        "decision_factor_2",
    }
    assert verdicts[0].comment == f"Human verdict: {v['verdict']}"
    assert verdicts[0].score == (1 if v["verdict"] == "PASS" else 0)


def test_feedback_stats_values_only_for_strings_and_recomputed(langsmith_sandbox: LangSmithSandbox) -> None:
    world, ids = langsmith_sandbox.world, langsmith_sandbox.world.hard_case_ids
    client = sdk_client(langsmith_sandbox)
    stats = client.read_run(ids["string_feedback_run"]).feedback_stats
    assert stats["category"]["values"] == {"billing": 2, "shipping": 1} and stats["category"]["n"] == 3
    assert stats["rubric"]["values"] == {} and stats["rubric"]["avg"] is None
    verdict_stats = client.read_run(ids["rationale_run"]).feedback_stats["final_verdict"]
    assert verdict_stats["values"] == {} and verdict_stats["avg"] == 1 and verdict_stats["n"] == 1
    assert json.loads(verdict_stats["sources"][0])["type"] == "app"
    assert client.read_run(ids["many_feedback_run"]).feedback_stats["annotator_score"]["n"] == 249

    record = world.feedback_for_run(ids["rationale_run"])[0]
    edited = world.edit_feedback(record["id"], score=0, comment="changed my mind")
    assert edited["modified_at"] > record["modified_at"]
    added = world.add_feedback(ids["rationale_run"], "category", value="account")
    stats = client.read_run(ids["rationale_run"]).feedback_stats
    assert stats["final_verdict"]["avg"] == 0 and stats["final_verdict"]["comments"] == ["changed my mind"]
    assert stats["category"]["values"] == {"billing": 1, "account": 1}
    fetched = {str(f.id): f for f in client.list_feedback(run_ids=[ids["rationale_run"]])}
    assert fetched[record["id"]].comment == "changed my mind" and added["id"] in fetched
    assert world.feedback_for_run(ids["correction_run"])[0]["correction"]
    child_fb = world.feedback_for_run(ids["child_feedback_run"])
    assert child_fb and world.runs[ids["child_feedback_run"]].data["parent_run_id"] is not None


# ---- world mutators ---------------------------------------------------------------------------
def test_expire_and_drop_make_runs_disappear(langsmith_sandbox: LangSmithSandbox) -> None:
    world, ids = langsmith_sandbox.world, langsmith_sandbox.world.hard_case_ids
    client = sdk_client(langsmith_sandbox)
    before = len(list(client.list_runs(project_name="demo-project")))
    world.drop_runs([ids["unicode_run"]])
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.read_run(ids["unicode_run"])
    dropped = world.expire_before(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    after = list(client.list_runs(project_name="demo-project"))
    assert dropped > 0 and len(after) == before - 1 - dropped
    assert ids["many_feedback_run"] not in _ids(after)  # 06:xx root: expired, feedback gone too
    assert world.feedback_for_run(ids["many_feedback_run"]) == []
    assert ids["midnight_child"] in _ids(after)  # root at 23:59:30 survives with its children
    trace = world.add_trace("demo-project", datetime(2026, 11, 22, 9, 0), 3, True, seed=1)
    assert len(trace) == 4 and world.feedback_for_run(trace[0]["id"])
    assert trace[0]["id"] in _ids(client.list_runs(project_name="demo-project", is_root=True))


# ---- faults -----------------------------------------------------------------------------------
def test_rate_limit_with_retry_after_then_sdk_retries_through(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    sb.faults = Faults(rate_limit_every=2, retry_after_s=0)
    first, second = (httpx.get(f"{sb.url}/info", headers=HEADERS) for _ in range(2))
    assert first.status_code == 200
    assert second.status_code == 429 and second.headers["retry-after"] == "0" and second.json()["detail"]
    sb.counters.reset()
    runs = list(sdk_client(sb, retries=True).list_runs(project_name="demo-project"))
    assert len(runs) == len(sb.world.runs)
    assert sb.counters.rate_limited_sent > 0


def test_rate_limit_html_has_no_retry_after(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    sb.faults = Faults(rate_limit_every=1, rate_limit_html=True)
    r = httpx.get(f"{sb.url}/info", headers=HEADERS)
    assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
    assert "retry-after" not in r.headers and "Too Many Requests" in r.text
    with pytest.raises(ls_utils.LangSmithRateLimitError):
        sdk_client(sb).read_project(project_name="demo-project")


def test_server_errors_every_nth_and_only_kinds(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    sb.faults = Faults(server_error_every=2, only_kinds={"runs_query"})
    statuses = [httpx.post(f"{sb.url}/runs/query", json={}, headers=HEADERS).status_code for _ in range(4)]
    assert statuses == [200, 503, 200, 503]
    assert all(httpx.get(f"{sb.url}/info", headers=HEADERS).status_code == 200 for _ in range(3))
    assert sb.counters.errors_sent == 2
    sb.faults = Faults(server_error_every=1, server_error_status=500)
    with pytest.raises(ls_utils.LangSmithAPIError):
        sdk_client(sb).read_project(project_name="demo-project")


def test_feedback_status_and_fail_first(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    run_id = sb.world.hard_case_ids["rationale_run"]
    sb.faults = Faults(feedback_status=403)
    assert httpx.get(f"{sb.url}/feedback", params={"run": run_id}, headers=HEADERS).status_code == 403
    with pytest.raises(ls_utils.LangSmithError):
        list(sdk_client(sb).list_feedback(run_ids=[run_id]))
    assert httpx.post(f"{sb.url}/runs/query", json={}, headers=HEADERS).status_code == 200
    sb.faults = Faults(feedback_fail_first=2)
    codes = [httpx.get(f"{sb.url}/feedback", params={"run": run_id}, headers=HEADERS).status_code for _ in range(3)]
    assert codes == [500, 500, 200]


def test_reset_every_drops_the_connection(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    sb.faults = Faults(reset_every=2)
    with httpx.Client(headers=HEADERS) as client:
        assert client.get(f"{sb.url}/info").status_code == 200
        with pytest.raises(httpx.TransportError):
            client.get(f"{sb.url}/info")
        assert client.get(f"{sb.url}/info").status_code == 200
    with pytest.raises(ls_utils.LangSmithConnectionError):
        sdk_client(sb).read_project(project_name="demo-project")
    assert sb.counters.resets_sent == 2


def test_latency(langsmith_sandbox: LangSmithSandbox) -> None:
    sb = langsmith_sandbox
    sb.faults.latency_ms = 200
    started = time.monotonic()
    assert httpx.get(f"{sb.url}/info", headers=HEADERS).status_code == 200
    assert time.monotonic() - started >= 0.2


# ---- determinism and scale --------------------------------------------------------------------
def test_same_seed_same_world_and_fast_generation() -> None:
    spec = small_spec()
    a, b = World.from_specs([spec]), World.from_specs([spec])
    assert a.runs_for_day("demo-project", SANDBOX_DAY) == b.runs_for_day("demo-project", SANDBOX_DAY)
    assert a.hard_case_ids == b.hard_case_ids
    assert sorted(a.feedback) == sorted(b.feedback)
    c = World.from_specs([small_spec(seed=8)])
    assert set(c.runs).isdisjoint(a.runs)

    started = time.monotonic()
    big = World.from_specs(
        [
            SandboxSpec(
                project="big",
                days=[SANDBOX_DAY],
                traces_per_day=2500,
                children_per_trace=(2, 4),
                seed=1,
                hard_cases=False,
            )
        ]
    )
    assert len(big.runs) >= 10_000
    assert time.monotonic() - started < 3.0


def test_serve_forever_runs_standalone(tmp_path) -> None:
    """The entry point behind `lse sandbox langsmith`: a separate process the SDK can reach."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "from datetime import date\n"
        "from lse.sandbox.langsmith import serve_forever, default_demo_spec\n"
        f"serve_forever([default_demo_spec(date(2026, 11, 20))], '127.0.0.1', {port}, 'k')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/info", headers={"x-api-key": "k"})
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "sandbox process did not come up"
                time.sleep(0.05)
        assert r.status_code == 200
        client = langsmith.Client(api_url=f"http://127.0.0.1:{port}", api_key="k")
        assert client.read_project(project_name="demo-project").run_count > 100
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "LangSmith sandbox on" in err
