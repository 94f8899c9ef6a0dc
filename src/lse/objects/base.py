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

    def key_of(self, url: str) -> str | None:
        """The key of an object this store returned `url` for; None for any other URL."""
        ...

    def presigned_url(self, key: str, expires_s: int) -> str | None:
        """A URL anyone holding it may GET the object with until it expires; None when the
        store has no such thing (the local store: the API signs its own download URL)."""
        ...

    def public_url(self, url: str) -> str | None:
        """`url` if a client can use it (s3://…), None if it is the server's own path."""
        ...


def check_key(key: str) -> str:
    """Keys are relative, slash-separated and never climb out of the store."""
    from lse.errors import UsageError

    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise UsageError(f"invalid object key {key!r}")
    return key
