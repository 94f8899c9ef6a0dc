"""Two projects of one organization: neither can read, list, use or delete the other's objects."""

from __future__ import annotations


def test_other_project_sees_nothing_and_cannot_touch_anything(api):
    c, other = api.client, api.h(api.other_key)
    d = api.dataset("secret", n=2)
    cfg = api.config("secret-cfg")
    run = api.start("secret-run", d["dataset_id"], cfg["id"]).json()["data"]

    for path in (
        f"/api/v1/evaluations/datasets/{d['dataset_id']}",
        f"/api/v1/configs/{cfg['id']}",
        f"/api/v1/configs/{cfg['id']}/versions",
        f"/api/v1/configs/{cfg['id']}/versions/1",
        f"/api/v1/evaluations/{run['id']}",
        f"/api/v1/evaluations/{run['id']}?include_results=true",
    ):
        r = c.get(path, headers=other)
        assert r.status_code == 404, (path, r.json())
        assert "secret" not in r.text

    for path in (
        "/api/v1/evaluations/datasets",
        "/api/v1/configs",
        "/api/v1/evaluations",
        f"/api/v1/evaluations?dataset_id={d['dataset_id']}",
    ):
        r = c.get(path, headers=other)
        assert r.status_code == 200 and r.json()["data"] == [], path

    assert c.delete(f"/api/v1/evaluations/datasets/{d['dataset_id']}", headers=other).status_code == 404
    r = c.post(
        f"/api/v1/configs/{cfg['id']}/versions", headers=other, json={"config_blob": cfg["version"]["config_blob"]}
    )
    assert r.status_code == 404
    # using another project's dataset or config to start a run is a 404, not a run
    mine = api.config("mine", key=api.other_key)
    assert api.start("steal", d["dataset_id"], mine["id"], key=api.other_key).status_code == 404
    assert api.start("steal", 1, cfg["id"], key=api.other_key).status_code == 404

    # the owner still has everything
    assert c.get(f"/api/v1/evaluations/datasets/{d['dataset_id']}", headers=api.h()).status_code == 200
    assert c.get(f"/api/v1/evaluations/{run['id']}", headers=api.h()).json()["data"]["run_name"] == "secret-run"
