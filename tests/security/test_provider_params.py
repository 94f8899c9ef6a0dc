"""A tenant's config cannot steer the operator's provider account: only the documented
Responses parameters are sent (anything else is a 422 naming it), the model billed is the
model priced, and a deployment setting may allow more.

Over HTTP against a live `lse serve` whose OpenAI endpoint is the strict sandbox (it
refuses unknown and wrongly typed parameters as the real API does); assertions are on
what the sandbox received.
"""

from __future__ import annotations

import time
import uuid

import pytest

from helpers.live_lse import sandbox_env, start_live_lse


def _config(c, params: dict, name: str | None = None):
    blob = {"completion": {"provider": "openai", "type": "text", "params": params}}
    return c.post("/api/v1/configs", json={"name": name or f"c-{uuid.uuid4().hex[:6]}", "config_blob": blob})


def _run(c, params: dict, questions: list[str]) -> dict:
    """Upload a dataset of `questions`, create the config, run it fast; the finished run."""
    csv = "question,answer\n" + "".join(f"{q},an answer\n" for q in questions)
    ds = c.post(
        "/api/v1/evaluations/datasets",
        files={"file": ("d.csv", csv.encode(), "text/csv")},
        data={"dataset_name": f"d{uuid.uuid4().hex[:6]}"},
    ).json()["data"]
    cfg = _config(c, params)
    assert cfg.status_code == 201, cfg.text
    body = {
        "experiment_name": f"r{uuid.uuid4().hex[:6]}",
        "dataset_id": ds["dataset_id"],
        "config_id": cfg.json()["data"]["id"],
        "config_version": 1,
        "run_mode": "fast",
    }
    started = c.post("/api/v1/evaluations", json=body)
    assert started.status_code == 200, started.text
    run_id = started.json()["data"]["id"]
    deadline = time.monotonic() + 30
    while True:
        run = c.get(f"/api/v1/evaluations/{run_id}", params={"include_results": "true"}).json()["data"]
        if run["status"] in ("completed", "failed"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def _bodies(sandbox, marker: str) -> list[dict]:
    return [b for b in sandbox.stats.responses_bodies if marker in str(b.get("input"))]


@pytest.mark.parametrize(
    "param,value",
    [
        ("extra_headers", {"OpenAI-Organization": "org-victim", "Authorization": "Bearer sk-other"}),
        ("extra_body", {"model": "o1-pro"}),
        ("extra_query", {"api-version": "x"}),
        ("tools", [{"type": "mcp", "server_url": "https://evil.example/mcp", "server_label": "x"}]),
        ("tools", [{"type": "function", "name": "f", "parameters": {}}]),
        ("background", True),
        ("previous_response_id", "resp_of_another_tenant"),
        ("service_tier", "priority"),
        ("no_such_param", 1),
    ],
)
def test_parameters_outside_the_allowlist_are_refused_by_name(live_lse, param, value):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        r = _config(c, {"model": "gpt-4o-mini", param: value})
        assert r.status_code == 422, r.text
        body = r.json()
        named = "tools[0].type" if param == "tools" else param  # only file_search tools are allowed
        assert body["metadata"]["code"] == "param_not_allowed" and body["metadata"]["details"] == {"param": named}
        assert f"params.{named}" in body["error"]
        assert c.get("/api/v1/configs").json()["data"] == []  # nothing stored
        # a new version is checked the same way
        ok = _config(c, {"model": "gpt-4o-mini"}).json()["data"]
        v = c.post(
            f"/api/v1/configs/{ok['id']}/versions", json={"config_blob": {"completion": {"params": {param: value}}}}
        )
        assert v.status_code == 422 and v.json()["metadata"]["details"] == {"param": named}


def test_kaapi_params_mean_what_they_mean_in_kaapi(live_lse, live_openai):
    """reasoning "low" → reasoning.effort; temperature dropped for reasoning models;
    knowledge_base_ids → a file_search tool. Each run completes against the strict sandbox."""
    key = live_lse.new_key()
    m1, m2, m3 = (f"marker{uuid.uuid4().hex[:8]}" for _ in range(3))
    with live_lse.client(key) as c:
        run = _run(c, {"model": "gpt-5-mini", "reasoning": "low", "temperature": 0.3}, [f"Why is the sky blue {m1}?"])
        assert run["status"] == "completed" and run["progress"]["failed"] == 0, run
        (sent,) = _bodies(live_openai, m1)
        assert sent["reasoning"] == {"effort": "low"} and "temperature" not in sent and sent["model"] == "gpt-5-mini"

        run = _run(c, {"model": "gpt-4o-mini", "reasoning": "high", "temperature": 0.3}, [f"What is {m2}?"])
        assert run["status"] == "completed", run
        (sent,) = _bodies(live_openai, m2)
        assert sent["temperature"] == 0.3 and "reasoning" not in sent  # not a reasoning model

        params = {"model": "gpt-4o-mini", "knowledge_base_ids": ["vs_abc123"], "max_num_results": 5}
        run = _run(c, params, [f"Where is {m3}?"])
        assert run["status"] == "completed", run
        (sent,) = _bodies(live_openai, m3)
        assert sent["tools"] == [{"type": "file_search", "vector_store_ids": ["vs_abc123"], "max_num_results": 5}]
        assert "knowledge_base_ids" not in sent and "max_num_results" not in sent


def test_the_model_billed_is_the_model_priced(live_lse, live_openai):
    key = live_lse.new_key()
    marker = f"marker{uuid.uuid4().hex[:8]}"
    with live_lse.client(key) as c:
        run = _run(c, {"model": "gpt-4o-mini", "max_output_tokens": 64}, [f"Price {marker} a", f"Price {marker} b"])
    sent = _bodies(live_openai, marker)
    assert len(sent) == 2 and {b["model"] for b in sent} == {"gpt-4o-mini"}
    assert set(sent[0]) == {"model", "max_output_tokens", "input"}  # nothing else reached the provider
    assert run["cost"]["responses"]["model"] == "gpt-4o-mini" and run["cost"]["response"]["model"] == "gpt-4o-mini"


def test_a_deployment_may_allow_more_parameters(tmp_path, live_openai):
    server = start_live_lse(
        tmp_path / "data", LSE_EVAL_EXTRA_RESPONSE_PARAMS="store, metadata, extra_headers", **sandbox_env(live_openai)
    )
    try:
        key = server.new_key()
        marker = f"marker{uuid.uuid4().hex[:8]}"
        with server.client(key) as c:
            params = {"model": "gpt-4o-mini", "store": False, "metadata": {"team": "qa"}}
            run = _run(c, params, [f"Allowed {marker}?"])
            assert run["status"] == "completed", run
            refused = _config(c, {"model": "gpt-4o-mini", "extra_headers": {"X": "1"}})
            assert refused.status_code == 422  # transport options are never allowed
            assert refused.json()["metadata"]["details"] == {"param": "extra_headers"}
        (sent,) = _bodies(live_openai, marker)
        assert sent["store"] is False and sent["metadata"] == {"team": "qa"}
    finally:
        server.stop()
