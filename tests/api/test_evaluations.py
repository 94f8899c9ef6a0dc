"""Starting runs: the checks in their order, run modes, the 409 on duplicate names (also
under concurrent requests), and reading runs back with progress, score, cost and results.

Fast runs really execute (in-process pool, OpenAI sandbox), and so do batch runs (the pool's
batch poller, the sandbox's Batch API); tests/api/test_batch_api.py covers batch in depth.
"""

from __future__ import annotations

import copy
import socket
import threading

import httpx
from api_builders import BLOB
from fastapi.testclient import TestClient

from lse.api.app import create_app
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun


def _err(r, status: int, code: str) -> dict:
    body = r.json()
    assert r.status_code == status, body
    assert body["success"] is False and body["metadata"]["code"] == code, body
    return body


def _blob(provider="openai", kind="text"):
    b = copy.deepcopy(BLOB)
    b["completion"]["provider"] = provider
    b["completion"]["type"] = kind
    return b


def test_start_checks_in_order(api):
    small = api.dataset("small", n=3, duplication_factor=5)  # 3 unique, 15 items
    big = api.dataset("big", n=11)  # 11 unique > 10
    cfg = api.config("good")
    other = api.config("anthropic", _blob(provider="anthropic"))
    stt = api.config("stt", _blob(kind="stt"))

    _err(api.start("r", 999, cfg["id"]), 404, "dataset_not_found")
    _err(api.start("r", small["dataset_id"], "nope"), 422, "validation_error")  # config_id is a UUID
    unknown = "00000000-0000-4000-8000-000000000000"
    body = _err(api.start("r", small["dataset_id"], unknown), 400, "config_not_resolved")
    assert body["error"].startswith("config_not_resolved: Failed to resolve config: ")  # Kaapi's 400
    _err(api.start("r", small["dataset_id"], cfg["id"], version=2), 400, "config_not_resolved")
    # provider before type before eligibility
    _err(api.start("r", big["dataset_id"], other["id"], mode="fast"), 422, "provider_unsupported")
    _err(api.start("r", big["dataset_id"], stt["id"], mode="fast"), 422, "config_type_unsupported")
    body = _err(api.start("r", big["dataset_id"], cfg["id"], mode="fast"), 422, "dataset_too_large_for_fast")
    assert body["metadata"]["details"] == {"original_items": 11, "total_items": 11, "max_unique_rows": 10}
    assert body["error"].startswith("dataset_too_large_for_fast: dataset has 11 unique rows; ")
    _err(api.start("r", small["dataset_id"], cfg["id"], mode="turbo"), 422, "validation_error")

    with unit_of_work(get_engine(api.settings)) as s:
        assert s.query(EvaluationRun).count() == 0  # no run left pending by any refusal
    # batch passes every check above: it has no size limit
    assert api.start("r", big["dataset_id"], cfg["id"], mode="batch").status_code in (200, 201)


def test_a_fast_run_executes_and_batch_is_the_default(api):
    d = api.dataset("small", n=3, duplication_factor=5)
    cfg = api.config("good")
    r = api.start("fast-1", d["dataset_id"], cfg["id"], mode="fast")
    assert r.status_code == 200, r.json()  # Kaapi's creates answer 200
    run = r.json()["data"]
    assert {
        k: run[k]
        for k in (
            "run_name",
            "run_mode",
            "status",
            "dataset_id",
            "dataset_name",
            "config_id",
            "config_version",
            "total_items",
        )
    } == {
        "run_name": "fast-1",
        "run_mode": "fast",
        "status": "processing",  # accepted by the engine
        "dataset_id": d["dataset_id"],
        "dataset_name": "small",
        "config_id": cfg["id"],
        "config_version": 1,
        "total_items": 15,
    }
    done = api.wait_finished(run["id"])
    assert done["status"] == "completed" and done["progress"] == {"total": 15, "succeeded": 15, "failed": 0, "done": 15}
    assert all(item["output"] and item["score_status"] == "scored" for item in done["results"])

    kaapi = api.start("batch-1", d["dataset_id"], cfg["id"], mode=None)  # Kaapi's default mode: batch
    assert kaapi.status_code in (200, 201) and kaapi.json()["data"]["run_mode"] == "batch"
    assert api.wait_finished(kaapi.json()["data"]["id"])["status"] == "completed"
    dup = _err(api.start("fast-1", d["dataset_id"], cfg["id"]), 409, "run_name_already_exists")
    assert "fast-1" in dup["error"]
    # the same name in another project is fine (uniqueness is per org+project)
    d2 = api.client.post(
        "/api/v1/evaluations/datasets",
        headers=api.h(api.other_key),
        files={"file": ("g.csv", b"question,answer\nq,a\n", "text/csv")},
        data={"dataset_name": "x"},
    ).json()["data"]
    c2 = api.config("c", key=api.other_key)
    other = api.start("fast-1", d2["dataset_id"], c2["id"], key=api.other_key)
    assert other.status_code == 200
    assert api.wait_finished(other.json()["data"]["id"], key=api.other_key)["status"] == "completed"


def test_a_run_whose_broker_is_down_is_marked_failed(api):
    """LSE_CELERY_BROKER_URL at a loopback port nobody listens on: the submit really fails."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again on leaving: connections are refused
    broken = api.settings.model_copy(update={"celery_broker_url": f"redis://127.0.0.1:{port}/0"})
    d, cfg = api.dataset("d"), api.config("c")
    with TestClient(create_app(broken)) as client:
        r = client.post(
            "/api/v1/evaluations",
            headers=api.h(),
            json={
                "experiment_name": "r",
                "dataset_id": d["dataset_id"],
                "config_id": cfg["id"],
                "config_version": 1,
                "run_mode": "fast",
            },
        )
    body = _err(r, 502, "broker_unavailable")
    assert f"127.0.0.1:{port}" in body["error"] and "LSE_CELERY_BROKER_URL" in body["error"]
    runs = api.client.get("/api/v1/evaluations", headers=api.h()).json()["data"]
    assert runs[0]["status"] == "failed" and "could not queue run" in runs[0]["error_message"]


def test_concurrent_duplicate_names_give_one_run_and_409s(api, live_url):
    d, cfg = api.dataset("d"), api.config("c")
    body = {
        "experiment_name": "race",
        "dataset_id": d["dataset_id"],
        "config_id": cfg["id"],
        "config_version": 1,
        "run_mode": "fast",
    }
    n = 8
    barrier = threading.Barrier(n)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def post():
        with httpx.Client(base_url=live_url, timeout=30) as client:
            barrier.wait()
            r = client.post("/api/v1/evaluations", json=body, headers=api.h())
        with lock:
            results.append(r)

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * (n - 1), [r.json() for r in results]
    assert all(r.json()["metadata"]["code"] == "run_name_already_exists" for r in results if r.status_code == 409)
    with unit_of_work(get_engine(api.settings)) as s:
        assert s.query(EvaluationRun).filter_by(run_name="race").count() == 1


def test_list_and_detail_with_progress_score_cost_and_results(api, openai_sandbox):
    rows = b"question,answer,category\nWhat is 0?,It is 0.,cat0\nWhat is 1?,It is 1.,cat1\nbroken [[bad-request]],It is 2.,cat2\n"
    r = api.upload("d", rows, duplication_factor=2)
    assert r.status_code == 200, r.json()
    d = r.json()["data"]
    other = api.dataset("other", n=1)
    cfg = api.config("c")
    run_id = api.start("r1", d["dataset_id"], cfg["id"]).json()["data"]["id"]
    done = api.wait_finished(run_id)
    openai_sandbox.faults.responses_latency_ms = 500  # r2 stays without results while we look
    r2 = api.start("r2", other["dataset_id"], cfg["id"]).json()["data"]["id"]

    listed = api.client.get("/api/v1/evaluations", headers=api.h()).json()["data"]
    assert [r["run_name"] for r in listed] == ["r2", "r1"]
    pending = api.client.get(f"/api/v1/evaluations/{r2}?include_results=true", headers=api.h()).json()["data"]
    assert pending["status"] in ("pending", "processing") and [r["status"] for r in pending["results"]] == ["pending"]
    only = api.client.get("/api/v1/evaluations", headers=api.h(), params={"dataset_id": d["dataset_id"]}).json()["data"]
    assert [r["run_name"] for r in only] == ["r1"]
    paged = api.client.get("/api/v1/evaluations", headers=api.h(), params={"limit": 1, "offset": 1}).json()["data"]
    assert [r["run_name"] for r in paged] == ["r1"]

    plain = api.client.get(f"/api/v1/evaluations/{run_id}", headers=api.h()).json()["data"]
    assert plain["results"] is None and plain["run_mode"] == "fast" and plain["status"] == "completed"
    assert plain["progress"] == {"total": 6, "succeeded": 4, "failed": 2, "done": 6}
    summary = plain["score"]["summary_scores"][0]
    assert summary["name"] == "Cosine Similarity" and summary["total_pairs"] == 4  # as Kaapi's clients select it
    assert plain["score"]["cosine_similarity"]["total_pairs"] == 4  # lse's own key stays
    assert plain["cost"]["total_cost_usd"] > 0 and plain == {**done, "results": None}

    res = done["results"]
    assert [r["status"] for r in res] == ["succeeded"] * 4 + ["failed"] * 2
    assert res[0]["question"] == "What is 0?" and res[0]["expected_answer"] == "It is 0." and res[0]["output"]
    assert res[0]["score_status"] == "scored" and -1 <= res[0]["score"] <= 1 and res[0]["input_tokens"] > 0
    assert res[0]["latency_ms"] > 0 and res[0]["attempts"] == 1
    assert "HTTP 400" in res[4]["error"] and res[4]["score_status"] == "not_scored" and res[4]["output"] is None
