"""The viewer's session cookie: signed, short-lived, carrying no secret of its own.

A sign-in with an API key yields a cookie holding the key's row id and a random CSRF
token, signed with itsdangerous (HMAC) so it cannot be forged or altered. Every request
looks the key up again, so revoking a key ends its sessions at once, and the raw key
never leaves the sign-in request. The cookie is HttpOnly (no script reads it),
SameSite=Lax (no cross-site POST carries it) and Secure when served over HTTPS.

The signing secret is `LSE_WEB_SESSION_SECRET`, or a random one created once under
`$LSE_DATA_DIR/state/` so sessions survive a restart; several servers behind one
address must share the setting.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from lse.errors import ConfigError
from lse.settings import Settings

COOKIE = "lse_session"
LOGIN_COOKIE = "lse_login_csrf"
MAX_AGE_S = 12 * 3600
_SALT = "lse-viewer-session"
_SECRET_FILE = "web-session-secret"


@dataclass(frozen=True)
class SessionData:
    key_id: int
    csrf: str


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def session_secret(settings: Settings) -> str:
    if settings.web_session_secret is not None:
        value = settings.web_session_secret.get_secret_value()
        if len(value) < 16:
            raise ConfigError("LSE_WEB_SESSION_SECRET must be at least 16 characters")
        return value
    return _stored_secret(settings.data_dir / "state" / _SECRET_FILE)


def _stored_secret(path: Path) -> str:
    """Read the secret, creating it once: written whole to a temp file, then linked into
    place, so two processes starting together agree on one secret and none reads half."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process got there first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot keep the viewer's session secret in {path}: {exc}; set LSE_WEB_SESSION_SECRET"
        ) from exc


class SessionSigner:
    def __init__(self, secret: str):
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def dumps(self, data: SessionData) -> str:
        return self._serializer.dumps({"k": data.key_id, "c": data.csrf})

    def loads(self, cookie: str | None) -> SessionData | None:
        """The session in a cookie, or None if absent, altered or older than MAX_AGE_S."""
        if not cookie:
            return None
        try:
            raw = self._serializer.loads(cookie, max_age=MAX_AGE_S)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("k"), int) or not isinstance(raw.get("c"), str):
            return None
        return SessionData(key_id=raw["k"], csrf=raw["c"])
