"""Objects as files under one directory; writes go to a temp file then `os.replace`,
so a reader never sees half an object even if the process dies mid-write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lse.errors import NotFoundError, StorageError
from lse.objects.base import check_key


class LocalObjectStore:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write object {key!r} under {self.root}: {exc.strerror or exc}") from exc
        return self.url_for(key)

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {key!r} not found in {self.root}") from exc
        except OSError as exc:
            raise StorageError(f"cannot read object {key!r}: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete object {key!r}: {exc.strerror or exc}") from exc

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()
