"""A database URL lse cannot use is one ConfigError line saying what to write, before
anything connects; a database that cannot be reached is a StorageError naming what lse
was doing. Checked on `make_engine` and on the real `lse db current`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from helpers.cli import lse_env, run_lse
from lse.errors import ConfigError, StorageError
from lse.store.engine import make_engine
from lse.store.migrate import db_status

UNREACHABLE = "postgresql://nobody:s3cret@127.0.0.1:1/none"  # nothing listens on port 1


def _bad_urls(tmp_path: Path) -> list[tuple[str, str]]:
    """(url, a fragment the message must carry: what to write or what is wrong)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    return [
        ("sqlite://relative.db", "write sqlite:///relative.db"),
        ("sqlite:///:memory:", "lse needs a file"),
        ("sqlite://", "lse needs a file"),
        ("sqlite:///file:mem?mode=memory&uri=true", "lse needs a file"),
        (f"sqlite:///{a_file}/x.db", f"{a_file} is a file, not a folder"),
        (f"sqlite:///{tmp_path}", "is a folder, not a file"),
        ("postgresql+psycopg2://postgres@127.0.0.1/test", "postgresql+psycopg://… or postgresql://…"),
        ("postgresql+asyncpg://postgres@127.0.0.1/test", "postgresql+psycopg://… or postgresql://…"),
        ("sqlite+aiosqlite:///x.db", "write sqlite:///path/to/lse.db"),
        ("mysql://root@localhost/lse", "unsupported database 'mysql'"),
        ("not a url", "not a valid database URL"),
        ("sqlite:///x.db?timeout=soon", "cannot be used"),
    ]


def test_every_bad_url_is_a_config_error_before_connecting(tmp_path):
    for url, fragment in _bad_urls(tmp_path):
        with pytest.raises(ConfigError) as caught:
            make_engine(url)
        assert fragment in str(caught.value), (url, str(caught.value))
        assert "\n" not in str(caught.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc, where no folder can be made")
def test_a_folder_that_cannot_be_created_is_a_config_error():
    with pytest.raises(ConfigError, match=r"cannot create the folder .*/proc/lse-no-such/x\.db.*LSE_DATABASE_URL"):
        make_engine("sqlite:////proc/lse-no-such/x.db")


def test_a_rejected_url_creates_nothing(tmp_path):
    with pytest.raises(ConfigError):
        make_engine(f"sqlite:///{tmp_path}/sub/dir/:memory:x?mode=memory")
    assert not (tmp_path / "sub").exists()


def test_passwords_never_reach_the_message():
    for url in ("postgresql+asyncpg://u:s3cret@127.0.0.1/db", "postgresql://u:s3cret@h:port/db"):
        with pytest.raises(ConfigError) as caught:
            make_engine(url)
        assert "s3cret" not in str(caught.value) and "***" in str(caught.value)


def test_unreachable_database_names_what_lse_was_doing():
    engine = make_engine(UNREACHABLE)
    try:
        with pytest.raises(StorageError) as caught:
            db_status(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "reading the schema revision of postgresql+psycopg://nobody:***@127.0.0.1:1/none" in message
    assert "migrating" not in message and "s3cret" not in message and "LSE_DATABASE_URL" in message


def test_the_cli_prints_one_line_and_exits_1_for_each_bad_url(tmp_path):
    urls = [u for u, _ in _bad_urls(tmp_path)] + [UNREACHABLE]
    for url in urls:
        proc = run_lse("db", "current", env=lse_env(LSE_DATA_DIR=str(tmp_path / "data"), LSE_DATABASE_URL=url))
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 1, (url, proc.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), (url, proc.stderr)
        assert "unexpected" not in lines[0] and "Traceback" not in proc.stderr, (url, proc.stderr)
        assert proc.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing was created for any of them


def test_the_same_checks_guard_every_command(tmp_path):
    """Not only `lse db`: a command reaching the database through get_engine says the same."""
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"), LSE_DATABASE_URL="sqlite:///:memory:")
    proc = run_lse("archive", "status", env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: LSE_DATABASE_URL 'sqlite:///:memory:' is an in-memory SQLite")
