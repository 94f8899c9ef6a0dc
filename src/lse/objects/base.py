"""The object store interface every backend implements (and every caller depends on)."""

from __future__ import annotations

from typing import Protocol


class ObjectStore(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        """Store `data` under `key` (replacing it whole, never half-written); return its URL."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; NotFoundError if there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing one is not an error (idempotent)."""
        ...

    def url_for(self, key: str) -> str: ...


def check_key(key: str) -> str:
    """Keys are relative, slash-separated and never climb out of the store."""
    from lse.errors import UsageError

    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise UsageError(f"invalid object key {key!r}")
    return key
