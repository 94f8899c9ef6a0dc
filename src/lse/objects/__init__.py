"""Object storage: a local directory (default, under LSE_DATA_DIR) or an S3-compatible bucket.

`object_store(settings)` picks the backend from `LSE_OBJECT_STORE_URL` (file:// or
s3://bucket/prefix, with `LSE_S3_ENDPOINT_URL` for MinIO/moto). Callers address objects
by key ("datasets/1/2/3/golden.csv") and keep the returned URL for humans and reports.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from lse.errors import ConfigError
from lse.objects.base import ObjectStore
from lse.objects.local import LocalObjectStore
from lse.settings import Settings

__all__ = ["LocalObjectStore", "ObjectStore", "object_store"]


def object_store(settings: Settings) -> ObjectStore:
    url = settings.effective_object_store_url
    parsed = urlparse(url)
    if parsed.scheme == "file":
        from pathlib import Path

        return LocalObjectStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        from lse.objects.s3 import S3ObjectStore

        if not parsed.netloc:
            raise ConfigError(f"LSE_OBJECT_STORE_URL {url!r} names no bucket: use s3://bucket/prefix")
        return S3ObjectStore(
            bucket=parsed.netloc,
            prefix=parsed.path.strip("/"),
            endpoint_url=settings.s3_endpoint_url,
        )
    if not parsed.scheme:
        from pathlib import Path

        return LocalObjectStore(Path(url))
    raise ConfigError(f"LSE_OBJECT_STORE_URL {url!r} is not supported: use file:///path or s3://bucket/prefix")
