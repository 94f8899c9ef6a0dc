"""One writer per project-day: an exclusive lock file held around read-merge-write.

Two fetches of the same day (a cron fetch and a manual re-fetch) would otherwise each
read the archive, merge their own view and write — the last writer dropping what the
other fetched. `fcntl.flock` is released by the kernel if the holder dies (kill -9),
so a crashed fetch never leaves the day locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from lse.archive.layout import day_dir
from lse.settings import Settings

LOCK_FILE = ".lock"


@contextmanager
def locked_day(settings: Settings, project: str, day: date) -> Iterator[None]:
    folder = day_dir(settings, project, day)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
