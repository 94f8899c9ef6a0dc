"""Configs as in Kaapi: version 1 on create, immutable versions appended, names unique per project."""

from __future__ import annotations

import copy

from api_builders import BLOB


def test_create_version_list_and_get(api):
    c = api.client
    created = api.config("qa")
    cid = created["id"]
    assert len(cid) == 36 and created["version"]["version"] == 1 and created["latest_version"] == 1
    assert created["version"]["config_blob"]["completion"]["params"]["model"] == "gpt-4o-mini"

    blob2 = copy.deepcopy(BLOB)
    blob2["completion"]["params"]["temperature"] = 0.7
    r = c.post(
        f"/api/v1/configs/{cid}/versions", headers=api.h(), json={"config_blob": blob2, "commit_message": "warmer"}
    )
    assert r.status_code == 201 and r.json()["data"]["version"] == 2

    one = c.get(f"/api/v1/configs/{cid}", headers=api.h()).json()["data"]
    assert one["latest_version"] == 2 and one["version"]["config_blob"]["completion"]["params"]["temperature"] == 0.7
    v1 = c.get(f"/api/v1/configs/{cid}/versions/1", headers=api.h()).json()["data"]
    assert v1["config_blob"]["completion"]["params"]["temperature"] == 0.2  # immutable
    versions = c.get(f"/api/v1/configs/{cid}/versions", headers=api.h()).json()["data"]
    assert [v["version"] for v in versions] == [2, 1]  # newest first, without blobs (Kaapi)
    assert all("config_blob" not in v and len(v["id"]) == 36 and v["updated_at"] for v in versions)
    listed = c.get("/api/v1/configs", headers=api.h()).json()["data"]
    assert [x["id"] for x in listed] == [cid]

    r = c.post("/api/v1/configs", headers=api.h(), json={"name": "qa", "config_blob": BLOB})
    assert r.status_code == 409 and r.json()["metadata"]["code"] == "config_name_exists"
    # the same name in another project is another config
    assert api.config("qa", key=api.other_key)["id"] != cid

    assert c.get(f"/api/v1/configs/{cid}/versions/3", headers=api.h()).status_code == 404
    assert c.get("/api/v1/configs/not-a-config", headers=api.h()).status_code == 404
    bad = c.post(
        "/api/v1/configs", headers=api.h(), json={"name": "x", "config_blob": {"completion": {"provider": "openai"}}}
    )
    assert bad.status_code == 422 and "params" in bad.json()["error"]
