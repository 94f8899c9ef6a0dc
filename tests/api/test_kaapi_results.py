"""Reading a run back the Kaapi way, against a live `lse serve`: `score.traces[]` with
get_trace_info, `grouped_traces` with export_format=grouped, resync_score, Kaapi's 400s
and its `success: false` for a run not completed; the payload's Kaapi fields (cost keys,
the summary score's name, every field Kaapi's OpenAPI marks required) beside lse's."""

from __future__ import annotations

from kaapi_client import completed_run, config, start, upload, wait

from lse.evals.trace_ids import item_trace_id
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDatasetItem, EvaluationRun

CSV = b"question,answer,category\nWhat is 2+2?,It is 4.,math\nCapital of France?,Paris is the capital.,\n"
KAAPI_RUN_FIELDS = {
    "id", "run_name", "dataset_name", "config_id", "config_version", "dataset_id", "batch_job_id",
    "embedding_batch_job_id", "status", "run_mode", "object_store_url", "score_trace_url", "total_items",
    "score", "unscoreable", "is_score_updated", "cost", "error_message", "organization_id", "project_id",
    "inserted_at", "updated_at",
}  # fmt: skip


def test_traces_the_kaapi_way(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        run = completed_run(c, CSV, duplication_factor=2)
        r = c.get(f"/api/v1/evaluations/{run['id']}", params={"get_trace_info": "true", "export_format": "row"})
        assert r.status_code == 200 and r.json()["success"] is True
        score = r.json()["data"]["score"]
    traces = score["traces"]
    assert len(traces) == 4
    with unit_of_work(get_engine(live_lse.settings())) as s:
        seed = s.get(EvaluationRun, run["id"]).trace_seed
        items = s.query(EvaluationDatasetItem).filter_by(dataset_id=run["dataset_id"]).order_by("position").all()
    assert [t["trace_id"] for t in traces] == [item_trace_id(seed, i.id) for i in items]  # the exports' ids
    first = traces[0]
    assert first["question"] == "What is 2+2?" and first["ground_truth_answer"] == "It is 4." and first["llm_answer"]
    assert first["question_id"] == 1 and first["category"] == "math" and traces[2]["category"] == "Other"
    (cos,) = first["scores"]
    assert cos["name"] == "Cosine Similarity" and cos["data_type"] == "NUMERIC" and -1 <= cos["value"] <= 1
    assert cos["value"] == round(cos["value"], 2)
    summary = score["summary_scores"][0]
    assert {"name", "avg", "std", "total_pairs", "data_type"} <= set(summary) and summary["name"] == "Cosine Similarity"
    assert "grouped_traces" not in score


def test_grouped_traces_and_resync(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        run = completed_run(c, CSV, duplication_factor=3)
        grouped = c.get(
            f"/api/v1/evaluations/{run['id']}", params={"get_trace_info": "true", "export_format": "grouped"}
        ).json()["data"]["score"]
        resynced = c.get(f"/api/v1/evaluations/{run['id']}", params={"get_trace_info": "true", "resync_score": "true"})
    groups = grouped["grouped_traces"]
    assert [g["question_id"] for g in groups] == [1, 2]
    assert len(groups[0]["llm_answers"]) == len(groups[0]["trace_ids"]) == len(groups[0]["scores"]) == 3
    assert groups[0]["question"] == "What is 2+2?" and groups[0]["ground_truth_answer"] == "It is 4."
    assert set(groups[0]["trace_ids"]) == {t["trace_id"] for t in grouped["traces"] if t["question_id"] == 1}
    assert resynced.status_code == 200 and len(resynced.json()["data"]["score"]["traces"]) == 6


def test_misuse_is_kaapis_400(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        run = completed_run(c, CSV)
        for params, text in (
            ({"resync_score": "true"}, "resync_score=true requires get_trace_info=true"),
            ({"export_format": "grouped"}, "export_format=grouped requires get_trace_info=true"),
        ):
            r = c.get(f"/api/v1/evaluations/{run['id']}", params=params)
            assert r.status_code == 400 and text in r.json()["error"], r.text
        assert c.get(f"/api/v1/evaluations/{run['id']}", params={"export_format": "csv"}).status_code == 422


def test_traces_of_a_run_not_completed_are_kaapis_success_false(live_lse, live_openai):
    key = live_lse.new_key()
    live_openai.faults.responses_latency_ms = 1500
    try:
        with live_lse.client(key) as c:
            ds = upload(c, CSV).json()["data"]
            started = start(c, ds["dataset_id"], config(c)["id"])
            run_id = started.json()["data"]["id"]
            r = c.get(f"/api/v1/evaluations/{run_id}", params={"get_trace_info": "true"})
            body = r.json()
            assert r.status_code == 200 and body["success"] is False, body
            assert body["error"].startswith("Trace info is only available for completed evaluations. Current status: ")
            assert body["data"]["id"] == run_id and "traces" not in (body["data"]["score"] or {})
    finally:
        live_openai.faults.responses_latency_ms = 0
        with live_lse.client(key) as c:
            wait(c, run_id)


def test_run_payload_has_kaapis_fields_beside_lses(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        run = completed_run(c, CSV)
        listed = c.get("/api/v1/evaluations").json()["data"][0]
    for payload in (run, listed):
        assert set(payload) >= KAAPI_RUN_FIELDS, KAAPI_RUN_FIELDS - set(payload)
        assert payload["batch_job_id"] is None and payload["embedding_batch_job_id"] is None
        assert payload["score_trace_url"] is None and payload["object_store_url"] is None
    cost = run["cost"]
    for kaapi_key, lse_key in (("response", "responses"), ("embedding", "embeddings")):
        entry = cost[kaapi_key]
        assert set(entry) == {"model", "input_tokens", "output_tokens", "total_tokens", "cost_usd"}
        assert entry["total_tokens"] == entry["input_tokens"] + entry["output_tokens"] > 0
        assert entry["cost_usd"] == cost[lse_key]["cost_usd"] and entry["model"] == cost[lse_key]["model"]
    assert cost["embedding"]["output_tokens"] == 0
    assert cost["total_cost_usd"] == round(cost["response"]["cost_usd"] + cost["embedding"]["cost_usd"], 10)
    assert run["progress"]["done"] == 2 and run["score"]["cosine_similarity"]["total_pairs"] == 2  # lse's own
    assert run["unscoreable"] is None  # every item scored
