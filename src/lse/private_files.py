"""Everything lse writes under LSE_DATA_DIR is private: files 0600, folders 0700.

The data dir holds archived traces, tenants' datasets and the database with key hashes
and encrypted credentials, so nothing in it is for other users of the machine. Modes are
set explicitly rather than left to the umask (the `lse` command also sets umask 077).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(folder: Path) -> Path:
    """`folder` and every missing parent, each created 0700 (mkdir -p would use the umask)."""
    missing = []
    current = Path(folder)
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    if not current.is_dir():  # as mkdir -p: a file where a folder must be
        raise FileExistsError(errno.EEXIST, "File exists", str(current))
    for part in reversed(missing):
        try:
            part.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(part, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    return folder


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 if it does not exist (for files another library opens)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
