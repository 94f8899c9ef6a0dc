"""`server`: a live `lse serve` of its own per test, on SQLite and on PostgreSQL (for
findings that depend on the backend); most tests share the session's `live_lse`."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from helpers.live_lse import sandbox_env, start_live_lse


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path, live_openai):
    env = {"LSE_SECRET_KEY": Fernet.generate_key().decode(), **sandbox_env(live_openai)}
    if request.param == "postgresql":
        env["LSE_DATABASE_URL"] = request.getfixturevalue("pg_database")
    live = start_live_lse(tmp_path / "data", **env)
    yield live
    live.stop()
