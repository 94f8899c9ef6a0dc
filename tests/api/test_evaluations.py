"""Starting runs: the checks in their order, run modes, the 409 on duplicate names (also
under concurrent requests), and reading runs back with progress, score, cost and results."""

from __future__ import annotations

import copy
import threading

import httpx
from api_builders import BLOB

from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDatasetItem, EvaluationItemResult, EvaluationRun
from lse.worker import dispatch


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


def test_start_checks_in_order(api, monkeypatch):
    small = api.dataset("small", n=3, duplication_factor=5)  # 3 unique, 15 items
    big = api.dataset("big", n=11)  # 11 unique > 10
    cfg = api.config("good")
    other = api.config("anthropic", _blob(provider="anthropic"))
    stt = api.config("stt", _blob(kind="stt"))

    _err(api.start("r", 999, cfg["id"]), 404, "dataset_not_found")
    _err(api.start("r", small["dataset_id"], "nope"), 404, "config_not_found")
    _err(api.start("r", small["dataset_id"], cfg["id"], version=2), 404, "config_version_not_found")
    # provider before type before eligibility
    _err(api.start("r", big["dataset_id"], other["id"], mode="fast"), 422, "provider_unsupported")
    _err(api.start("r", big["dataset_id"], stt["id"], mode="fast"), 422, "config_type_unsupported")
    body = _err(api.start("r", big["dataset_id"], cfg["id"], mode="fast"), 422, "dataset_too_large_for_fast")
    assert body["metadata"]["details"] == {"original_items": 11, "total_items": 11, "max_unique_rows": 10}
    assert "11 unique questions" in body["error"]
    _err(api.start("r", small["dataset_id"], cfg["id"], mode="turbo"), 422, "validation_error")

    monkeypatch.setattr(dispatch, "available_modes", lambda settings: {"batch"})
    body = _err(api.start("r", small["dataset_id"], cfg["id"], mode="fast"), 422, "run_mode_not_available")
    assert body["error"].startswith("run mode fast is not available")
    assert api.submitted == []
    with unit_of_work(get_engine(api.settings)) as s:
        assert s.query(EvaluationRun).count() == 0  # no run left pending by any refusal


def test_start_fast_and_default_batch(api):
    d = api.dataset("small", n=3, duplication_factor=5)
    cfg = api.config("good")
    r = api.start("fast-1", d["dataset_id"], cfg["id"], mode="fast")
    assert r.status_code == 201, r.json()
    run = r.json()["data"]
    assert {k: run[k] for k in ("run_name", "run_mode", "status", "dataset_id", "dataset_name", "config_id",
                                 "config_version", "total_items")} == {
        "run_name": "fast-1", "run_mode": "fast", "status": "pending", "dataset_id": d["dataset_id"],
        "dataset_name": "small", "config_id": cfg["id"], "config_version": 1, "total_items": 15,
    }
    r2 = api.start("batch-1", d["dataset_id"], cfg["id"], mode=None)
    assert r2.status_code == 201 and r2.json()["data"]["run_mode"] == "batch"
    assert api.submitted == [run["id"], r2.json()["data"]["id"]]
    dup = _err(api.start("fast-1", d["dataset_id"], cfg["id"], mode="batch"), 409, "run_name_already_exists")
    assert "fast-1" in dup["error"]
    # the same name in another project is fine (uniqueness is per org+project)
    d2 = api.client.post(
        "/api/v1/evaluations/datasets", headers=api.h(api.other_key),
        files={"file": ("g.csv", b"question,answer\nq,a\n", "text/csv")}, data={"dataset_name": "x"},
    ).json()["data"]
    c2 = api.config("c", key=api.other_key)
    assert api.start("fast-1", d2["dataset_id"], c2["id"], key=api.other_key).status_code == 201


def test_a_failed_submission_marks_the_run_failed(api, monkeypatch):
    def refuse(settings, run_id):
        raise RuntimeError("broker down")

    monkeypatch.setattr(dispatch, "submit_run", refuse)
    d, cfg = api.dataset("d"), api.config("c")
    r = api.start("r", d["dataset_id"], cfg["id"])
    assert r.status_code == 500 and r.json()["success"] is False
    runs = api.client.get("/api/v1/evaluations", headers=api.h()).json()["data"]
    assert runs[0]["status"] == "failed" and "broker down" in runs[0]["error_message"]


def test_concurrent_duplicate_names_give_one_run_and_409s(api, live_url):
    d, cfg = api.dataset("d"), api.config("c")
    body = {"experiment_name": "race", "dataset_id": d["dataset_id"], "config_id": cfg["id"], "config_version": 1}
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
    assert statuses == [201] + [409] * (n - 1), [r.json() for r in results]
    assert all(r.json()["metadata"]["code"] == "run_name_already_exists" for r in results if r.status_code == 409)
    with unit_of_work(get_engine(api.settings)) as s:
        assert s.query(EvaluationRun).filter_by(run_name="race").count() == 1


def test_list_and_detail_with_progress_score_cost_and_results(api):
    d = api.dataset("d", n=2, duplication_factor=2)
    other = api.dataset("other", n=1)
    cfg = api.config("c")
    run_id = api.start("r1", d["dataset_id"], cfg["id"], mode="fast").json()["data"]["id"]
    api.start("r2", other["dataset_id"], cfg["id"])
    score = {"cosine_similarity": {"avg": 0.9, "std": 0.05, "total_pairs": 3}}
    cost = {"response": {"cost": 0.002, "currency": "USD"}, "embedding": {"cost": 0.0001, "currency": "USD"},
            "total": {"cost": 0.0021, "currency": "USD"}}
    with unit_of_work(get_engine(api.settings)) as s:
        run = s.get(EvaluationRun, run_id)
        run.status, run.items_succeeded, run.items_failed, run.score, run.cost = "completed", 3, 1, score, cost
        items = s.query(EvaluationDatasetItem).filter_by(dataset_id=d["dataset_id"]).order_by("position").all()
        for i, item in enumerate(items[:3]):
            s.add(EvaluationItemResult(run_id=run_id, item_id=item.id, status="succeeded", output=f"out {i}",
                                       input_tokens=10, output_tokens=5, latency_ms=120.5, attempts=1,
                                       score=0.9, score_status="scored"))
        s.add(EvaluationItemResult(run_id=run_id, item_id=items[3].id, status="failed", error="bad request",
                                   error_code="invalid_request", attempts=1, score_status="not_scored"))

    listed = api.client.get("/api/v1/evaluations", headers=api.h()).json()["data"]
    assert [r["run_name"] for r in listed] == ["r2", "r1"]
    only = api.client.get("/api/v1/evaluations", headers=api.h(), params={"dataset_id": d["dataset_id"]}).json()["data"]
    assert [r["run_name"] for r in only] == ["r1"]
    paged = api.client.get("/api/v1/evaluations", headers=api.h(), params={"limit": 1, "offset": 1}).json()["data"]
    assert [r["run_name"] for r in paged] == ["r1"]

    plain = api.client.get(f"/api/v1/evaluations/{run_id}", headers=api.h()).json()["data"]
    assert plain["results"] is None and plain["run_mode"] == "fast" and plain["status"] == "completed"
    assert plain["progress"] == {"total": 4, "succeeded": 3, "failed": 1, "done": 4}
    assert plain["score"] == score and plain["cost"] == cost

    full = api.client.get(f"/api/v1/evaluations/{run_id}", headers=api.h(), params={"include_results": "true"}).json()["data"]
    res = full["results"]
    assert [r["status"] for r in res] == ["succeeded", "succeeded", "succeeded", "failed"]
    assert res[0]["question"] == "What is 0?" and res[0]["expected_answer"] == "It is 0." and res[0]["output"] == "out 0"
    assert res[0]["score"] == 0.9 and res[0]["score_status"] == "scored" and res[0]["input_tokens"] == 10
    assert res[0]["latency_ms"] == 120.5
    assert res[3]["error"] == "bad request" and res[3]["score_status"] == "not_scored"
    pending = api.client.get(f"/api/v1/evaluations/{listed[0]['id']}?include_results=true", headers=api.h()).json()
    assert [r["status"] for r in pending["data"]["results"]] == ["pending"]
