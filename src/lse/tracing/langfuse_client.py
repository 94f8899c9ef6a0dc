"""The official Langfuse client for one target, built once per process and reused.

The SDK keeps one set of background resources (span exporter, score queue) per public
key for the whole process, whatever host a later client names, so this module refuses
to point one public key at two hosts rather than letting traces go to the first one.
Sampling and tracing switches are passed explicitly: an export is never sampled away by
a `LANGFUSE_SAMPLE_RATE` meant for the application.
"""

from __future__ import annotations

import threading

import httpx
from langfuse import Langfuse
from langfuse.api.core import ApiError

from lse.errors import ConfigError, LseError, UpstreamError, UpstreamRejected
from lse.tracing.targets import LangfuseTarget

_clients: dict[str, tuple[LangfuseTarget, Langfuse]] = {}
_lock = threading.Lock()


def langfuse_client(target: LangfuseTarget, *, timeout_s: float = 20.0) -> Langfuse:
    with _lock:
        known = _clients.get(target.public_key)
        if known is not None:
            if known[0] != target:
                raise ConfigError(
                    f"Langfuse public key {target.public_key} is already in use with {known[0].host} in this "
                    f"process; one key belongs to one Langfuse project: restart to use {target.host}"
                )
            return known[1]
        client = Langfuse(
            public_key=target.public_key,
            secret_key=target.secret_key,
            base_url=target.host,
            timeout=max(1, int(timeout_s)),
            tracing_enabled=True,
            sample_rate=1.0,
            flush_at=200,
            flush_interval=1.0,
        )
        _clients[target.public_key] = (target, client)
        return client


def translate(exc: Exception, doing: str) -> LseError:
    """An SDK or transport error as an lse error: 429/5xx/network are worth retrying
    (UpstreamError), other 4xx will not change (UpstreamRejected)."""
    if isinstance(exc, LseError):
        return exc
    if isinstance(exc, ApiError):
        status = exc.status_code
        body = exc.body if isinstance(exc.body, (str, dict)) else repr(exc.body)
        message = f"Langfuse answered {status} while {doing}: {body}"
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            return UpstreamRejected(message, code="langfuse_rejected")
        return UpstreamError(message, code="langfuse_unavailable")
    if isinstance(exc, httpx.HTTPError):
        return UpstreamError(f"Langfuse unreachable while {doing}: {exc}", code="langfuse_unavailable")
    return UpstreamError(f"Langfuse export failed while {doing}: {exc!r}", code="langfuse_error")
