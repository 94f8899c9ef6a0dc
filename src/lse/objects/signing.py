"""Short-lived signed download URLs for objects in the local store.

S3 has presigned URLs; a local store has none, so the API hands out its own: a path with
`expires` (unix seconds) and `signature`, an HMAC-SHA256 over what the URL grants (the
object it names and its tenant) and the expiry. The signing key is derived from
`LSE_SECRET_KEY` when set — every API process of a deployment then accepts the others'
URLs — else drawn at random once per process (URLs die with the process).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from lse.settings import Settings

_PROCESS_KEY = secrets.token_bytes(32)


def _key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if not secret.strip():
        return _PROCESS_KEY
    return hashlib.sha256(b"lse-download-url\x00" + secret.encode("utf-8")).digest()


def sign(settings: Settings, subject: str, expires: int) -> str:
    """The signature granting `subject` (e.g. "dataset:7:1:2") until `expires`."""
    return hmac.new(_key(settings), f"{subject}\x00{expires}".encode(), hashlib.sha256).hexdigest()


def expiry(ttl_s: int) -> int:
    return int(time.time()) + ttl_s


def valid(settings: Settings, subject: str, expires: int, signature: str) -> bool:
    """True if `signature` grants `subject` and has not expired."""
    if expires < time.time():
        return False
    return hmac.compare_digest(sign(settings, subject, expires), signature or "")
