"""Batch runs over the REST API, executed by the real in-process pool and its batch poller
against the OpenAI sandbox's Files and Batches APIs (real time, a short batch schedule).

A Kaapi-style request without `run_mode` runs a batch evaluation to completion with scores
and cost; the run detail lists its provider batches; cancel works on batch and fast runs.
"""

from __future__ import annotations

import time

import pytest
from api_builders import Api, wait_for_runs_to_end
from fastapi.testclient import TestClient

from lse.api.app import create_app
from lse.settings import Settings
from lse.tenancy import create_key

ENDED = ("completed", "failed", "cancelled")


@pytest.fixture
def batch_api(api_settings: Settings, openai_sandbox):
    """The app with a batch poller that looks every 0.1 s and a heartbeat of 0.2 s, and a sandbox
    whose batches take about a second."""
    f = openai_sandbox.batches.faults
    f.validate_s, f.process_s, f.finalize_s, f.cancel_delay_s = 0.2, 0.4, 0.1, 0.2
    settings = api_settings.model_copy(
        update={
            "eval_batch_poll_s": 0.1,
            "eval_heartbeat_s": 0.2,  # a fast run's worker sees a cancel within 0.2 s
            "eval_stale_after_s": 0.6,
            "eval_fast_api_concurrency": 2,
        }
    )
    with TestClient(create_app(settings)) as client:
        alpha = create_key(settings, "acme", "alpha")
        beta = create_key(settings, "acme", "beta")
        yield Api(client, settings, alpha.api_key, beta.api_key)
        wait_for_runs_to_end(settings)


def wait_ended(api: Api, run_id: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = api.client.get(f"/api/v1/evaluations/{run_id}", headers=api.h(), params={"include_results": "true"})
        run = r.json()["data"]
        if run["status"] in ENDED:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {timeout:g} s"
        time.sleep(0.05)


def test_a_kaapi_request_without_run_mode_runs_a_batch_evaluation_to_completion(batch_api: Api, openai_sandbox) -> None:
    d = batch_api.dataset("golden", n=12)  # over the fast limit of 10: only batch can run it
    cfg = batch_api.config("bot")
    r = batch_api.start("kaapi-default", d["dataset_id"], cfg["id"], mode=None)
    assert r.status_code in (200, 201), r.json()
    created = r.json()["data"]
    assert created["run_mode"] == "batch" and created["status"] in ("pending", "processing")
    run = wait_ended(batch_api, created["id"])
    assert run["status"] == "completed", run
    assert run["progress"] == {"total": 12, "succeeded": 12, "failed": 0, "done": 12}
    assert run["score"]["summary_scores"][0]["total_pairs"] == 12
    assert run["cost"]["pricing"] == "batch" and run["cost"]["total_cost_usd"] > 0
    assert all(item["status"] == "succeeded" and item["score"] is not None for item in run["results"])
    (batch,) = run["batches"]
    assert (batch["round"], batch["state"], batch["provider_status"]) == (1, "collected", "completed")
    assert batch["request_counts"] == {"total": 12, "completed": 12, "failed": 0}
    assert batch["expires_at"] and batch["provider_batch_id"].startswith("batch_")
    stats = openai_sandbox.batches.stats
    assert (stats.files_uploaded, stats.batches_created) == (1, 1)
    assert sorted(stats.lines_executed.values()) == [1] * 12


def test_a_fast_run_has_no_batches_in_its_detail(batch_api: Api) -> None:
    d = batch_api.dataset("small", n=2)
    cfg = batch_api.config("bot")
    run_id = batch_api.start("fast", d["dataset_id"], cfg["id"], mode="fast").json()["data"]["id"]
    run = wait_ended(batch_api, run_id)
    assert run["status"] == "completed" and run["batches"] is None and run["cancel_requested_at"] is None


def test_cancel_a_running_batch_run_keeps_what_it_paid_for(batch_api: Api, openai_sandbox) -> None:
    f = openai_sandbox.batches.faults
    f.process_s = 20.0  # one line a second or so
    d = batch_api.dataset("golden", n=20)
    cfg = batch_api.config("bot")
    run_id = batch_api.start("to-cancel", d["dataset_id"], cfg["id"], mode="batch").json()["data"]["id"]
    deadline = time.monotonic() + 20
    while len(openai_sandbox.batches.stats.lines_executed) < 2:
        assert time.monotonic() < deadline, "the batch never started"
        openai_sandbox.batches.batches_by_status()  # time passes for a batch when it is looked at
        time.sleep(0.05)
    r = batch_api.client.post(f"/api/v1/evaluations/{run_id}/cancel", headers=batch_api.h())
    assert r.status_code == 200, r.json()
    assert r.json()["data"]["cancel_requested_at"] is not None
    run = wait_ended(batch_api, run_id)
    assert run["status"] == "cancelled" and run["error_message"] == "cancelled by the user"
    ok = [i for i in run["results"] if i["status"] == "succeeded"]
    stopped = [i for i in run["results"] if i["status"] == "failed"]
    executed = openai_sandbox.batches.stats.lines_executed
    assert len(ok) == len(executed) >= 2 and len(ok) + len(stopped) == 20
    assert openai_sandbox.batches.stats.cancels >= 1 and run["batches"][0]["provider_status"] == "cancelled"
    assert run["score"] is None and run["cost"]["responses"]["cost_usd"] > 0
    again = batch_api.client.post(f"/api/v1/evaluations/{run_id}/cancel", headers=batch_api.h())
    assert again.status_code == 200 and again.json()["data"]["status"] == "cancelled"


def test_cancel_a_running_fast_run(batch_api: Api, openai_sandbox) -> None:
    openai_sandbox.faults.responses_latency_ms = 300
    d = batch_api.dataset("small", n=10)
    cfg = batch_api.config("bot")
    run_id = batch_api.start("fast", d["dataset_id"], cfg["id"], mode="fast").json()["data"]["id"]
    r = batch_api.client.post(f"/api/v1/evaluations/{run_id}/cancel", headers=batch_api.h())
    assert r.status_code == 200 and r.json()["data"]["status"] in ("pending", "processing", "cancelled")
    run = wait_ended(batch_api, run_id, timeout=40)
    assert run["status"] == "cancelled"
    assert {i["status"] for i in run["results"]} <= {"succeeded", "failed"}  # nothing left pending
    assert openai_sandbox.stats.requests_by_endpoint.get("responses", 0) < 10


def test_cancel_answers_409_for_a_finished_run_and_404_across_tenants(batch_api: Api) -> None:
    d = batch_api.dataset("small", n=2)
    cfg = batch_api.config("bot")
    run_id = batch_api.start("fast", d["dataset_id"], cfg["id"], mode="fast").json()["data"]["id"]
    wait_ended(batch_api, run_id)
    r = batch_api.client.post(f"/api/v1/evaluations/{run_id}/cancel", headers=batch_api.h())
    body = r.json()
    assert r.status_code == 409 and body["success"] is False and body["metadata"]["code"] == "run_finished"
    other = batch_api.client.post(f"/api/v1/evaluations/{run_id}/cancel", headers=batch_api.h(batch_api.other_key))
    assert other.status_code == 404 and other.json()["metadata"]["code"] == "run_not_found"
    missing = batch_api.client.post("/api/v1/evaluations/999999/cancel", headers=batch_api.h())
    assert missing.status_code == 404
