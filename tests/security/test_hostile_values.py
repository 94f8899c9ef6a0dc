"""Values JSON or the database cannot carry are refused at the edge with a 422, and nothing
is stored: lone surrogates, NaN and Infinity. A row stored before lse refused them reads
back repaired (U+FFFD), never as a 500, and no run uses it.

Against a live `lse serve` on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import ConfigVersion

BLOB = '{"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini", %s}}}'


def _post_raw(c, raw: str):
    return c.post("/api/v1/configs", content=raw.encode(), headers={"Content-Type": "application/json"})


def test_lone_surrogates_nan_and_infinity_are_422_and_nothing_is_stored(server):
    key = server.new_key()
    with server.client(key) as c:
        cases = {
            "surrogate in params": '{"name": "a", "config_blob": ' + BLOB % '"instructions": "bad \\ud800 text"' + "}",
            "surrogate in a key": '{"name": "b", "config_blob": ' + BLOB % '"\\udfff": 1' + "}",
            "surrogate in the name": '{"name": "c\\ud83d", "config_blob": ' + BLOB % '"top_p": 0.5' + "}",
            "NaN": '{"name": "d", "config_blob": ' + BLOB % '"temperature": NaN' + "}",
            "Infinity": '{"name": "e", "config_blob": ' + BLOB % '"top_p": Infinity' + "}",
            "-Infinity in extra": '{"name": "f", "config_blob": ' + BLOB % '"max_output_tokens": 64' + "}",
        }
        cases["-Infinity in extra"] = cases["-Infinity in extra"].replace(
            '"type": "text"', '"type": "text", "x": -Infinity'
        )
        for what, raw in cases.items():
            r = _post_raw(c, raw)
            assert r.status_code == 422, (what, r.text)
            assert r.json()["success"] is False
        assert c.get("/api/v1/configs").json()["data"] == []
        ok = _post_raw(c, '{"name": "g", "config_blob": ' + BLOB % '"instructions": "fine \\ud83d\\ude00"' + "}")
        assert ok.status_code == 201, ok.text  # a surrogate pair is a real character (😀)
        assert ok.json()["data"]["version"]["config_blob"]["completion"]["params"]["instructions"] == "fine 😀"


def test_a_row_stored_before_the_edge_refused_it_reads_repaired_and_no_run_uses_it(server):
    key = server.new_key()
    with server.client(key) as c:
        cfg = _post_raw(c, '{"name": "old", "config_blob": ' + BLOB % '"instructions": "placeholder"' + "}").json()
        cid = cfg["data"]["id"]
        ds = c.post(
            "/api/v1/evaluations/datasets",
            files={"file": ("d.csv", b"question,answer\nq,a\n", "text/csv")},
            data={"dataset_name": "d"},
        ).json()["data"]
    if server.env.get("LSE_DATABASE_URL"):
        pytest.skip("PostgreSQL never stored such rows: JSONB refused them")
    # what an older lse let through on SQLite: the blob text holds an escaped lone surrogate
    with unit_of_work(get_engine(server.settings())) as s:
        version = s.query(ConfigVersion).filter_by(config_id=cid).one()
        blob = json.loads(json.dumps(version.config_blob))
        blob["completion"]["params"]["instructions"] = "broken \ud800 text"
        # the JSON text an older lse wrote (ensure_ascii: the surrogate as a \ud800 escape)
        s.execute(
            text("UPDATE config_versions SET config_blob = :blob WHERE id = :id"),
            {"blob": json.dumps(blob), "id": version.id},
        )
    with server.client(key) as c:
        got = c.get(f"/api/v1/configs/{cid}")
        assert got.status_code == 200, got.text
        assert (
            got.json()["data"]["version"]["config_blob"]["completion"]["params"]["instructions"] == "broken \ufffd text"
        )
        assert c.get(f"/api/v1/configs/{cid}/versions").status_code == 200
        assert c.get(f"/api/v1/configs/{cid}/versions/1").status_code == 200
        assert c.get("/api/v1/configs").status_code == 200
        run = c.post(
            "/api/v1/evaluations",
            json={
                "experiment_name": "r",
                "dataset_id": ds["dataset_id"],
                "config_id": cid,
                "config_version": 1,
                "run_mode": "fast",
            },
        )
        assert run.status_code == 422 and run.json()["metadata"]["code"] == "config_invalid_text", run.text
        # a new version with valid text is the way out
        v2 = c.post(
            f"/api/v1/configs/{cid}/versions", json={"config_blob": {"completion": {"params": {"instructions": "ok"}}}}
        )
        assert v2.status_code == 201, v2.text
