"""The smaller findings, over a live `lse serve`: no server paths in responses, one
winner among parallel deletes, and keys that can be listed (never shown) and revoked."""

from __future__ import annotations

import json
import threading

from helpers.cli import run_lse


def test_responses_do_not_show_the_servers_object_store_paths(live_lse):
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        up = c.post(
            "/api/v1/evaluations/datasets",
            files={"file": ("d.csv", b"question,answer\nq,a\n", "text/csv")},
            data={"dataset_name": "d"},
        )
        ds = up.json()["data"]
        texts = [
            up.text,
            c.get("/api/v1/evaluations/datasets").text,
            c.get(f"/api/v1/evaluations/datasets/{ds['dataset_id']}").text,
        ]
    assert ds["object_store_url"] is None
    for text in texts:
        assert str(live_lse.data_dir) not in text and "file://" not in text


def test_of_parallel_deletes_of_one_dataset_only_one_succeeds(server):
    live_lse = server
    key = live_lse.new_key()
    with live_lse.client(key) as c:
        ds = c.post(
            "/api/v1/evaluations/datasets",
            files={"file": ("d.csv", b"question,answer\nq,a\n", "text/csv")},
            data={"dataset_name": "gone"},
        ).json()["data"]
    n = 8
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def delete() -> None:
        with live_lse.client(key) as c:
            barrier.wait()
            r = c.delete(f"/api/v1/evaluations/datasets/{ds['dataset_id']}")
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=delete) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [404] * (n - 1), statuses


def test_keys_are_listed_without_the_key_and_can_be_revoked(live_lse):
    key = live_lse.new_key(org="keyring")
    with live_lse.client(key) as c:
        assert c.get("/api/v1/configs").status_code == 200
    listed = run_lse("admin", "list-keys", "--org", "keyring", "--json", env=live_lse.env)
    assert listed.returncode == 0, listed.stderr
    (info,) = json.loads(listed.stdout)
    assert key not in listed.stdout and "api_key" not in info
    assert info["key_prefix"] == key[:12] and info["organization"] == "keyring"
    assert info["created_at"] and info["last_used_at"] and info["revoked_at"] is None
    table = run_lse("admin", "list-keys", "--org", "keyring", env=live_lse.env)
    assert table.returncode == 0 and key[:12] in table.stdout and key not in table.stdout

    revoked = run_lse("admin", "revoke-key", key[:12], env=live_lse.env)
    assert revoked.returncode == 0, revoked.stderr
    with live_lse.client(key) as c:
        assert c.get("/api/v1/configs").status_code == 401
    again = json.loads(
        run_lse("admin", "list-keys", "--org", "keyring", "--revoked", "--json", env=live_lse.env).stdout
    )
    assert again[0]["revoked_at"] is not None
    assert run_lse("admin", "list-keys", "--org", "keyring", "--json", env=live_lse.env).stdout.strip() == "[]"
    unknown = run_lse("admin", "revoke-key", "lse_nothing", env=live_lse.env)
    assert unknown.returncode == 1 and "no API key" in unknown.stderr
