"""Kaapi's error contract and payload shapes, against a live `lse serve`: the machine code
inside `error` (and in `metadata.code`), creates answering 200, a started run `processing`,
a dataset in use 400, a large `limit` clamped, an unresolvable config version 400; datasets
with Kaapi's fields, sanitised names, text/plain CSVs, the `eligible_for=fast` alias, the
"Other" category and a working signed URL."""

from __future__ import annotations

import time

import httpx
from kaapi_client import BLOB, config, name, start, upload, wait

from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDatasetItem

KAAPI_DATASET_FIELDS = {
    "dataset_id", "dataset_name", "description", "total_items", "original_items", "duplication_factor",
    "langfuse_dataset_id", "object_store_url", "signed_url", "eligible_for_fast",
}  # fmt: skip


def _csv(n: int) -> bytes:
    return ("question,answer\n" + "".join(f"q{i},a{i}\n" for i in range(n))).encode()


def test_machine_codes_lead_the_error_text(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        big = upload(c, _csv(11)).json()["data"]
        small = upload(c, _csv(2)).json()["data"]
        stt = dict(BLOB, completion={**BLOB["completion"], "type": "stt"})
        r = start(c, big["dataset_id"], config(c)["id"])
        assert r.status_code == 422
        assert r.json()["error"].startswith("dataset_too_large_for_fast: dataset has 11 unique rows; ")
        assert r.json()["metadata"]["code"] == "dataset_too_large_for_fast"
        r = start(c, small["dataset_id"], config(c, stt)["id"])
        assert r.status_code == 422 and "config_type_unsupported" in r.json()["error"]
        cfg = config(c)
        first = start(c, small["dataset_id"], cfg["id"], run_name="dup")
        assert first.status_code == 200
        again = start(c, small["dataset_id"], cfg["id"], run_name="dup")
        assert again.status_code == 409 and again.json()["error"].startswith("run_name_already_exists: ")
        wait(c, first.json()["data"]["id"])


def test_creates_answer_200_and_a_started_run_is_processing(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        up = upload(c, _csv(2))
        assert up.status_code == 200 and up.json()["success"] is True
        r = start(c, up.json()["data"]["dataset_id"], config(c)["id"])
        assert r.status_code == 200 and r.json()["data"]["status"] == "processing"
        wait(c, r.json()["data"]["id"])


def test_unresolvable_config_versions_are_400_and_a_malformed_id_422(live_lse):
    key, other = live_lse.new_key(), live_lse.new_key()
    with live_lse.client(key) as c, live_lse.client(other) as o:
        ds = upload(c, _csv(2)).json()["data"]
        cfg = config(c)
        theirs = config(o)
        for config_id, version in ((cfg["id"], 9), ("6f1c2b3a-0000-4000-8000-000000000000", 1), (theirs["id"], 1)):
            r = start(c, ds["dataset_id"], config_id, config_version=version)
            assert r.status_code == 400, r.text
            assert r.json()["error"].startswith("config_not_resolved: Failed to resolve config: ")
        assert start(c, ds["dataset_id"], "not-a-uuid").status_code == 422


def test_a_dataset_in_use_is_400_and_a_deleted_one_says_so(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        used = upload(c, _csv(2)).json()["data"]
        wait(c, start(c, used["dataset_id"], config(c)["id"]).json()["data"]["id"])
        r = c.delete(f"/api/v1/evaluations/datasets/{used['dataset_id']}")
        assert r.status_code == 400 and r.json()["error"].startswith("dataset_in_use: Cannot delete dataset ")
        free = upload(c, _csv(1), dataset_name="free").json()["data"]
        r = c.delete(f"/api/v1/evaluations/datasets/{free['dataset_id']}")
        assert r.status_code == 200
        assert r.json()["data"]["message"] == f"Successfully deleted dataset 'free' (id={free['dataset_id']})"
        assert r.json()["data"]["dataset_id"] == free["dataset_id"]


def test_a_large_limit_on_the_run_list_is_clamped(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        r = c.get("/api/v1/evaluations", params={"limit": 1000, "offset": 0})
        assert r.status_code == 200 and r.json()["metadata"]["limit"] == 100


def test_dataset_payloads_names_and_uploads_as_kaapi(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        # Kaapi's documented example: "My Dataset 01!" is stored as my_dataset_01
        up = upload(c, b"question,answer,category\nq1,a1,\nq2,a2,science\n", dataset_name="My Dataset 01!")
        d = up.json()["data"]
        assert d["dataset_name"] == "my_dataset_01" and set(d) >= KAAPI_DATASET_FIELDS
        assert d["langfuse_dataset_id"] is None and d["signed_url"] is None and d["object_store_url"] is None
        assert upload(c, _csv(1), dataset_name="my-dataset 01").status_code == 409  # the same name once sanitised
        plain = upload(c, _csv(1), content_type="text/plain")
        assert plain.status_code == 200, plain.text
        big = upload(c, _csv(12)).json()["data"]
        fast = c.get("/api/v1/evaluations/datasets", params={"eligible_for": "fast"}).json()["data"]
        ids = {x["dataset_id"] for x in fast}
        assert d["dataset_id"] in ids and big["dataset_id"] not in ids
    with unit_of_work(get_engine(live_lse.settings())) as s:
        cats = [
            i.category
            for i in s.query(EvaluationDatasetItem).filter_by(dataset_id=d["dataset_id"]).order_by("position")
        ]
    assert cats == ["Other", "science"]


def test_signed_url_downloads_the_csv_for_a_while(live_lse):
    key = live_lse.new_key()
    data = b"question,answer\nq1,a1\n"
    with live_lse.client(key) as c:
        ds = upload(c, data, dataset_name=name("signed")).json()["data"]
        got = c.get(f"/api/v1/evaluations/datasets/{ds['dataset_id']}", params={"include_signed_url": "true"})
        url = got.json()["data"]["signed_url"]
    assert url.startswith(live_lse.base_url + f"/api/v1/evaluations/datasets/{ds['dataset_id']}/download?")
    r = httpx.get(url)  # no API key: the signature is the grant
    assert r.status_code == 200 and r.content == data and r.headers["content-type"].startswith("text/csv")
    forged = url.replace("signature=", "signature=0")
    assert httpx.get(forged).status_code == 404
    expired = url.split("expires=")[0] + f"expires={int(time.time()) - 1}&" + url.split("&", 1)[1]
    assert httpx.get(expired).status_code == 404
    other = url.replace(f"/datasets/{ds['dataset_id']}/", f"/datasets/{ds['dataset_id'] + 1}/")
    assert httpx.get(other).status_code == 404


def test_the_rest_of_the_contract(live_lse):
    """Auth, unknown paths, CSV rules, dataset paging, tenancy and the run_mode default."""
    key, other = live_lse.new_key(), live_lse.new_key()
    with live_lse.client() as anonymous:
        assert anonymous.get("/api/v1/configs", headers={"Authorization": "Bearer jwt"}).status_code == 401
    with live_lse.client(key) as c, live_lse.client(other) as o:
        missing = c.get("/api/v1/no-such-route")
        assert missing.status_code == 404 and missing.json()["success"] is False
        bad = upload(c, b"question,reply\nq,a\n")
        assert bad.status_code == 422 and bad.json()["error"].startswith("missing_columns: ")
        skipped = upload(c, b"question,answer\nq1,a1\n,a2\nq3,\n").json()["data"]
        assert skipped["original_items"] == 1 and skipped["skipped_rows"] == 2
        for i in range(3):
            upload(c, _csv(1), dataset_name=f"page_{i}")
        page = c.get("/api/v1/evaluations/datasets", params={"limit": 2, "offset": 1}).json()
        assert [d["dataset_name"] for d in page["data"]] == ["page_1", "page_0"]
        run = start(c, skipped["dataset_id"], config(c)["id"])
        run_id = run.json()["data"]["id"]
        assert o.get(f"/api/v1/evaluations/datasets/{skipped['dataset_id']}").status_code == 404
        assert o.get(f"/api/v1/evaluations/{run_id}").status_code == 404
        omitted = c.post(
            "/api/v1/evaluations",
            json={
                "experiment_name": "no-mode",
                "dataset_id": skipped["dataset_id"],
                "config_id": config(c)["id"],
                "config_version": 1,
            },
        )
        assert omitted.status_code == 200, omitted.text
        assert omitted.json()["data"]["run_mode"] == "batch" and omitted.json()["data"]["status"] == "processing"
        wait(c, run_id)
