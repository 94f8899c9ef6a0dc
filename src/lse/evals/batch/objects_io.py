"""Moving files between local disk and the object store without holding them in memory.

`ObjectStore.put_bytes` takes a bytes-like value; a memory map of the file is one, backed by
the page cache rather than the heap, so a 200 MB request file is stored without a 200 MB
copy. Reading back streams from disk when the store is a local directory (its URL is a
file URL); from S3 it is one object in memory, the store's own interface.
"""

from __future__ import annotations

import io
import mmap
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import unquote, urlparse

from lse.objects import ObjectStore


def put_file(store: ObjectStore, key: str, path: Path, content_type: str = "application/jsonl") -> str:
    """Store the file at `path` under `key`; its URL."""
    size = path.stat().st_size
    if size == 0:
        return store.put_bytes(key, b"", content_type)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return store.put_bytes(key, cast(bytes, mapped), content_type)  # a bytes-like view, not a copy


def open_object(store: ObjectStore, key: str) -> BinaryIO:
    """A readable binary stream over the object (NotFoundError if there is none)."""
    url = store.url_for(key)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        if path.is_file():
            return path.open("rb")
    return io.BytesIO(store.get_bytes(key))
