"""Settings checked before a job does any work.

A setting that cannot work must stop a command before its first request or write, not
after a day has been fetched: a bad `LSE_DATABASE_URL` used to surface only when the
first day's figures were recorded, ending a range fetch half done and without a report.

    check_settings(settings, langsmith=True, database="form")

- `data_dir`: `LSE_DATA_DIR` is (or can be made) a writable folder;
- `langsmith`: `LANGSMITH_API_KEY` is set and `LANGSMITH_ENDPOINT` is an http(s) URL;
- `database`: "form" parses `LSE_DATABASE_URL` and builds its engine without connecting
  (a fetch records figures there but still archives if the database is down);
  "ready" also connects and checks the schema (commands whose work is the database).
"""

from __future__ import annotations

import os
from typing import Literal

from lse.errors import ConfigError
from lse.settings import Settings


def check_data_dir(settings: Settings) -> None:
    folder = settings.data_dir.expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"LSE_DATA_DIR {str(folder)!r} is a file, not a folder: point it at a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"LSE_DATA_DIR {str(folder)!r} cannot be created ({exc.strerror}): point it at a writable folder"
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"LSE_DATA_DIR {str(folder)!r} is not writable: point it at a writable folder")


def check_database(settings: Settings, level: Literal["form", "ready"]) -> None:
    from lse.store.engine import get_engine, make_engine  # SQLAlchemy: loaded when needed

    if level == "ready":
        get_engine(settings)  # connects, checks the schema (StorageError says what to run)
        return
    make_engine(settings.effective_database_url).dispose()  # parses the URL, loads the driver


def check_settings(
    settings: Settings,
    *,
    data_dir: bool = True,
    langsmith: bool = False,
    database: Literal["form", "ready"] | None = None,
) -> None:
    """ConfigError (or StorageError for an unusable database) before any work."""
    if data_dir:
        check_data_dir(settings)
    if langsmith:
        from lse.langsmith.client_factory import check_langsmith_settings  # the SDK: loaded when needed

        check_langsmith_settings(settings)
    if database is not None:
        check_database(settings, database)
