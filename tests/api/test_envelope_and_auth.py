"""Every response is the envelope with its status kept; keys authenticate, nothing else does."""

from __future__ import annotations

from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import ApiKey
from lse.tenancy.keys import hash_key

ENVELOPE = {"success", "data", "error", "metadata"}


def _is_error(r, status: int, code: str) -> dict:
    body = r.json()
    assert r.status_code == status, body
    assert set(body) == ENVELOPE
    assert body["success"] is False and body["data"] is None and isinstance(body["error"], str)
    assert body["metadata"]["code"] == code
    return body


def test_errors_of_every_kind_are_enveloped(api):
    c = api.client
    _is_error(c.get("/api/v1/nowhere"), 404, "not_found")
    _is_error(c.get("/nowhere"), 404, "not_found")  # `/` itself is the web viewer
    _is_error(c.delete("/api/v1/configs", headers=api.h()), 405, "method_not_allowed")
    _is_error(c.get("/api/v1/evaluations"), 401, "unauthorized")
    _is_error(c.get("/api/v1/evaluations", headers={"X-API-KEY": "lse_wrong"}), 401, "unauthorized")
    body = _is_error(c.get("/api/v1/evaluations?limit=0", headers=api.h()), 422, "validation_error")
    assert "limit" in body["error"]
    _is_error(
        c.post(
            "/api/v1/configs",
            headers=api.h(),
            content=b"{not json",
        ),
        422,
        "validation_error",
    )
    _is_error(c.get("/api/v1/evaluations/99999", headers=api.h()), 404, "run_not_found")

    ok = c.get("/api/v1/evaluations", headers=api.h())
    assert ok.status_code == 200 and ok.json()["success"] is True and ok.json()["data"] == []
    assert c.get("/docs").status_code == 200
    assert "/api/v1/evaluations" in c.get("/openapi.json").json()["paths"]


def test_keys_are_stored_hashed_and_revoked_keys_fail(api):
    with unit_of_work(get_engine(api.settings)) as s:
        stored = {k.key_hash: k for k in s.query(ApiKey)}
    assert hash_key(api.key) in stored and api.key not in {k.key_hash for k in stored.values()}
    assert stored[hash_key(api.key)].key_prefix == api.key[:12]
    from datetime import UTC, datetime

    with unit_of_work(get_engine(api.settings)) as s:
        s.get(ApiKey, stored[hash_key(api.key)].id).revoked_at = datetime.now(UTC)
    r = api.client.get("/api/v1/configs", headers=api.h())
    assert r.status_code == 401
