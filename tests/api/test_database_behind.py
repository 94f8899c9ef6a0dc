"""The API on a database an older lse left behind: every request gets the envelope with
the StorageError's code and sentence (run `lse db upgrade`), and nothing is migrated."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lse.api.app import create_app
from lse.store.engine import make_engine
from lse.store.migrate import current_revision, head_revision, upgrade_to_head


def test_requests_say_the_database_needs_upgrade(db_settings, db_url):
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0001_archive")
    with TestClient(create_app(db_settings)) as client:
        resp = client.get("/api/v1/configs", headers={"X-API-KEY": "any-key"})
    assert resp.status_code == 500
    body = resp.json()
    assert body["success"] is False
    assert body["metadata"]["code"] == "database_needs_upgrade"
    assert "`lse db upgrade`" in body["error"] and head_revision() in body["error"]
    assert current_revision(engine) == "0001_archive"
    engine.dispose()
