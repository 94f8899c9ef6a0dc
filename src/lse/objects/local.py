"""Objects as files under one directory; writes go to a temp file then `os.replace`,
so a reader never sees half an object even if the process dies mid-write. Files are
0600 and folders 0700: objects hold tenants' data. Their file:// URLs are the server's
business and never shown to API clients (`public_url` is None)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from lse.errors import NotFoundError, StorageError
from lse.objects.base import check_key
from lse.private_files import private_dir


class LocalObjectStore:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        path = self._path(key)
        try:
            private_dir(path.parent)
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

    def key_of(self, url: str) -> str | None:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            return None
        try:
            rel = Path(unquote(parsed.path)).resolve().relative_to(self.root)
        except ValueError:
            return None
        return rel.as_posix()

    def presigned_url(self, key: str, expires_s: int) -> str | None:
        return None

    def public_url(self, url: str) -> str | None:
        return None
