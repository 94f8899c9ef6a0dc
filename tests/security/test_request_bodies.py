"""Bodies are bounded before anything else: the key is checked on headers alone, every body
is capped while it streams (chunked too), and a config_blob is bounded in depth and size.

Each test talks raw HTTP to a live `lse serve`: it sends the head and part of a body and
looks at whether the server answers before the body is complete — a server that reads
whole bodies first never answers in time.
"""

from __future__ import annotations

import json

from helpers.live_lse import raw_request

BLOB = {"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini"}}}
MB = 1024 * 1024


def test_an_unauthenticated_chunked_body_is_refused_on_its_headers(live_lse):
    for path, ctype in (
        ("/api/v1/configs", "application/json"),
        ("/api/v1/evaluations/datasets", "multipart/form-data; boundary=x"),
        ("/api/v1/nowhere", "application/json"),
    ):
        resp = raw_request(live_lse.port, "POST", path, {"Content-Type": ctype}, [b"{" * 1024])
        assert resp.status == 401, (path, resp)  # answered with the body still open
        assert resp.closed  # and the connection dropped: the rest is never read
        assert b"unauthorized" in resp.body


def test_a_wrong_key_is_refused_before_the_body_too(live_lse):
    resp = raw_request(
        live_lse.port, "POST", "/api/v1/configs", {"Content-Type": "application/json", "X-API-KEY": "lse_nope"}, [b"["]
    )
    assert resp.status == 401 and resp.closed


def test_a_declared_oversized_body_is_refused_before_it_is_sent(live_lse):
    key = live_lse.new_key()
    resp = raw_request(
        live_lse.port,
        "POST",
        "/api/v1/configs",
        {"Content-Type": "application/json", "X-API-KEY": key, "Content-Length": str(400 * MB)},
        [],
        chunked=False,
    )
    assert resp.status == 413 and b"payload_too_large" in resp.body


def test_a_chunked_json_body_is_cut_off_at_its_cap(live_lse):
    key = live_lse.new_key()
    parts = [b'{"name": "big", "config_blob": {"completion": {"provider": "openai", "params": {"model": "m", "x": "']
    parts += [b"a" * (64 * 1024)] * 5  # 320 KB: past the 256 KB config limit, body never finished
    resp = raw_request(
        live_lse.port, "POST", "/api/v1/configs", {"Content-Type": "application/json", "X-API-KEY": key}, parts
    )
    assert resp.status == 413, resp
    with live_lse.client(key) as c:
        assert c.get("/api/v1/configs").json()["data"] == []  # nothing stored


def test_a_chunked_upload_is_cut_off_just_past_one_megabyte(live_lse):
    key = live_lse.new_key()
    head = (
        b'--x\r\nContent-Disposition: form-data; name="dataset_name"\r\n\r\nbig\r\n'
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\nquestion,answer\n"
    )
    parts = [head] + [b"q,a\n" * 16384] * 24  # 1.5 MB of CSV, never finished
    resp = raw_request(
        live_lse.port,
        "POST",
        "/api/v1/evaluations/datasets",
        {"Content-Type": "multipart/form-data; boundary=x", "X-API-KEY": key},
        parts,
    )
    assert resp.status == 413, resp
    assert b"payload_too_large" in resp.body


def test_a_finished_chunked_config_over_the_cap_is_refused_and_not_stored(live_lse):
    key = live_lse.new_key()
    blob = json.loads(json.dumps(BLOB))
    blob["completion"]["params"]["instructions"] = "x" * (300 * 1024)

    def chunks():
        raw = json.dumps({"name": "chunked", "config_blob": blob}).encode()
        for i in range(0, len(raw), 32 * 1024):
            yield raw[i : i + 32 * 1024]

    with live_lse.client(key) as c:
        r = c.post("/api/v1/configs", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["metadata"]["code"] == "payload_too_large"
        assert c.get("/api/v1/configs").json()["data"] == []


def test_config_blob_depth_and_string_sizes_are_bounded(live_lse):
    key = live_lse.new_key()

    def nested(depth: int) -> bytes:  # written by hand: json.dumps itself cannot nest 5,000 deep
        blob = json.dumps(BLOB)[:-1] + ', "extra": ' + '{"k": ' * depth + '"leaf"' + "}" * depth + "}"
        return ('{"name": "deep", "config_blob": ' + blob + "}").encode()

    with live_lse.client(key) as c:
        for depth in (33, 40, 255, 998, 5000):
            r = c.post("/api/v1/configs", content=nested(depth), headers={"Content-Type": "application/json"})
            assert r.status_code == 422, (depth, r.text[:300])
            assert "nested deeper" in r.json()["error"]
        long = json.loads(json.dumps(BLOB))
        long["completion"]["params"]["instructions"] = "x" * 70_000
        r = c.post("/api/v1/configs", json={"name": "long", "config_blob": long})
        assert r.status_code == 422 and "longer than 65,536" in r.json()["error"]
        wide_key = json.loads(json.dumps(BLOB))
        wide_key["completion"]["k" * 300] = 1
        r = c.post("/api/v1/configs", json={"name": "key", "config_blob": wide_key})
        assert r.status_code == 422 and "key longer" in r.json()["error"]
        assert c.get("/api/v1/configs").json()["data"] == []
        ok = c.post("/api/v1/configs", content=nested(20), headers={"Content-Type": "application/json"})
        assert ok.status_code == 201, ok.text
