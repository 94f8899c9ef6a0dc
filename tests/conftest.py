"""Shared fixtures: isolated settings per test, and one database fixture parametrised
over SQLite and the machine's real PostgreSQL (a fresh database per test, dropped after).

With CI=true an unreachable PostgreSQL fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lse.settings import Settings

PG_ADMIN_URL = os.environ.get("LSE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

_ENV_PREFIXES = ("LSE_", "LANGSMITH_", "LANGCHAIN_", "OPENAI_", "LANGFUSE_")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's own LSE_/LANGSMITH_/OPENAI_ environment or .env."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LSE_DATA_DIR", str(tmp_path / "data"))


def _pg_unavailable_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("select 1")
        return None
    except Exception as exc:  # noqa: BLE001 -- any failure to connect means "unavailable"  # any failure to connect is "unavailable"
        return f"PostgreSQL at {PG_ADMIN_URL} unreachable: {exc}"


def require_postgres() -> None:
    reason = _pg_unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def create_pg_database() -> tuple[str, str]:
    """Create a throwaway database; return (sqlalchemy url, name)."""
    import psycopg

    name = f"lse_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", name


def drop_pg_database(name: str) -> None:
    import psycopg

    from lse.store.engine import dispose_engines

    dispose_engines()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        from lse.store.engine import dispose_engines

        dispose_engines()
        return
    require_postgres()
    url, name = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database URL (skipped, or failed under CI, without a server)."""
    require_postgres()
    url, name = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on the embedded defaults, under a temp data dir, with no pacing delay."""
    return Settings(data_dir=tmp_path / "data", request_delay_ms=0)


@pytest.fixture
def db_settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings whose database is the parametrised SQLite/PostgreSQL one."""
    return Settings(data_dir=tmp_path / "data", request_delay_ms=0, database_url=db_url)


pytest_plugins = ["helpers.langsmith_fixtures", "helpers.openai_fixtures", "helpers.live_lse"]
