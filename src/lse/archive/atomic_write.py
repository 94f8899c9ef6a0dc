"""The one atomic file writer every writer uses: temp file in the same folder, fsync, rename.

A reader sees the old file or the new one, never half of either; a kill -9 mid-write
leaves at most a stray `.tmp-*` file that the next write ignores and the layout skips.
Files are created 0600 and folders 0700 whatever the umask: they hold traces and keys.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from lse.private_files import private_dir


@contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[IO]:
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)  # mkstemp: 0600
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_text_write(path: Path, text: str) -> None:
    with atomic_writer(path) as fh:
        fh.write(text)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some filesystems refuse directory fsync; the rename is still atomic
    finally:
        os.close(dir_fd)
