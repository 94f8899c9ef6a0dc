"""Kaapi's config management against a live `lse serve`: both URL forms without a redirect,
PATCH and DELETE of configs, DELETE of versions, partial version bodies, `skip` as well as
`offset`, `metadata.has_more`, versions listed without blobs, UUID version ids with
`updated_at`, and Kaapi's documented config example."""

from __future__ import annotations

import copy
import uuid

from kaapi_client import BLOB, config, name

# Kaapi's documented config_blob (api/docs/config/create.md): OpenAI Responses with File Search
KAAPI_DOC_BLOB = {
    "completion": {
        "provider": "openai",
        "params": {
            "model": "gpt-4o-mini",
            "instructions": "You are a helpful assistant for farming communities...",
            "temperature": 1,
            "tools": [
                {
                    "type": "file_search",
                    "vector_store_ids": ["vs_692d71f3f5708191b1c46525f3c1e196"],
                    "max_num_results": 20,
                }
            ],
        },
    }
}


def test_both_url_forms_answer_without_a_redirect(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key, follow_redirects=False) as c:
        for path in ("/api/v1/configs", "/api/v1/configs/"):
            assert c.get(path).status_code == 200
            r = c.post(path, json={"name": name(), "config_blob": BLOB})
            assert r.status_code == 201, (path, r.status_code)
        for path in ("/api/v1/evaluations/datasets/", "/api/v1/evaluations/", "/api/v1/credentials/"):
            assert c.get(path).status_code in (200, 404), path  # 404: no credentials yet (Kaapi's answer)


def test_kaapis_documented_config_example_round_trips(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        r = c.post("/api/v1/configs/", json={"name": "farm", "config_blob": KAAPI_DOC_BLOB, "commit_message": "v1"})
        assert r.status_code == 201, r.text
        version = r.json()["data"]["version"]
        blob = version["config_blob"]
        assert blob["completion"]["params"] == KAAPI_DOC_BLOB["completion"]["params"]
        assert blob["completion"]["type"] == "text"  # lse fills Kaapi's later default
        assert str(uuid.UUID(version["id"])) == version["id"] and version["updated_at"]


def test_patch_delete_and_version_delete(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        cfg = config(c, config_name="first")
        r = c.patch(f"/api/v1/configs/{cfg['id']}", json={"name": "renamed", "description": "now described"})
        assert r.status_code == 200 and r.json()["data"]["name"] == "renamed"
        assert r.json()["data"]["description"] == "now described"
        taken = config(c, config_name="taken")
        assert c.patch(f"/api/v1/configs/{cfg['id']}", json={"name": "taken"}).status_code == 409

        v2 = c.post(f"/api/v1/configs/{cfg['id']}/versions", json={"config_blob": BLOB}).json()["data"]
        assert v2["version"] == 2
        only_one = c.delete(f"/api/v1/configs/{taken['id']}/versions/1")
        assert only_one.status_code == 400  # a config keeps a version: delete the config instead
        r = c.delete(f"/api/v1/configs/{cfg['id']}/versions/1")
        assert r.status_code == 200 and r.json()["data"] == {"message": "Config Version deleted successfully"}
        assert c.get(f"/api/v1/configs/{cfg['id']}/versions/1").status_code == 404
        v3 = c.post(f"/api/v1/configs/{cfg['id']}/versions", json={"config_blob": BLOB}).json()["data"]
        assert v3["version"] == 3  # a number is never given twice

        r = c.delete(f"/api/v1/configs/{cfg['id']}")
        assert r.status_code == 200 and r.json()["data"] == {"message": "Config deleted successfully"}
        assert c.get(f"/api/v1/configs/{cfg['id']}").status_code == 404
        assert cfg["id"] not in {x["id"] for x in c.get("/api/v1/configs").json()["data"]}
        assert config(c, config_name="renamed")["id"] != cfg["id"]  # the name is free again


def test_partial_version_bodies_inherit_provider_and_type(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        blob = copy.deepcopy(BLOB)
        blob["completion"]["params"]["instructions"] = "Answer briefly."
        cfg = config(c, blob)
        r = c.post(
            f"/api/v1/configs/{cfg['id']}/versions",
            json={"config_blob": {"completion": {"params": {"temperature": 0.5, "instructions": None}}}},
        )
        assert r.status_code == 201, r.text
        merged = r.json()["data"]["config_blob"]["completion"]
        assert merged["provider"] == "openai" and merged["type"] == "text"
        assert merged["params"] == {"model": "gpt-4o-mini", "temperature": 0.5}


def test_paging_with_skip_or_offset_and_has_more(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        ids = [config(c)["id"] for _ in range(3)]
        newest_first = list(reversed(ids))
        for param in ("skip", "offset"):
            page1 = c.get("/api/v1/configs", params={"limit": 2, param: 0}).json()
            page2 = c.get("/api/v1/configs", params={"limit": 2, param: 2}).json()
            assert [x["id"] for x in page1["data"]] == newest_first[:2] and page1["metadata"]["has_more"] is True
            assert [x["id"] for x in page2["data"]] == newest_first[2:] and page2["metadata"]["has_more"] is False
        cid = ids[0]
        for _ in range(3):
            c.post(f"/api/v1/configs/{cid}/versions", json={"config_blob": {"completion": {"params": {"top_p": 0.5}}}})
        versions = c.get(f"/api/v1/configs/{cid}/versions", params={"limit": 2, "skip": 1}).json()
        assert [v["version"] for v in versions["data"]] == [3, 2] and versions["metadata"]["has_more"] is True
        assert all("config_blob" not in v and uuid.UUID(v["id"]) and v["updated_at"] for v in versions["data"])
