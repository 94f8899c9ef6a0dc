"""Request plumbing for the viewer: its state on the app, the signed-in viewer, CSRF checks."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from lse.errors import LseError
from lse.settings import Settings
from lse.web.access import ArchiveAccess
from lse.web.auth import Viewer, tenant_of_key
from lse.web.session import COOKIE, SessionSigner

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class ViewerState:
    settings: Settings
    access: ArchiveAccess
    signer: SessionSigner


class SignInRequired(LseError):
    """No live session: pages redirect to the sign-in form."""

    http_status = 401
    code = "sign_in_required"


class CsrfRejected(LseError):
    http_status = 403
    code = "csrf_rejected"


def viewer_state(request: Request) -> ViewerState:
    return request.app.state.viewer


def current_viewer(request: Request) -> Viewer | None:
    """The viewer of this request's session cookie, if the cookie is valid and its key live."""
    state = viewer_state(request)
    data = state.signer.loads(request.cookies.get(COOKIE))
    if data is None:
        return None
    tenant = tenant_of_key(state.settings, data.key_id)
    return Viewer(tenant=tenant, key_id=data.key_id, csrf=data.csrf) if tenant else None


def require_viewer(request: Request) -> Viewer:
    """The signed-in viewer, looked up once per request (the route class may ask before
    the body is read, the route's dependencies after)."""
    viewer: Viewer | None = getattr(request.state, "signed_in", None)
    if viewer is None:
        viewer = current_viewer(request)
        if viewer is None:
            raise SignInRequired("sign in with an API key to see this page")
        request.state.signed_in = viewer
    return viewer


def same_origin(request: Request) -> bool:
    """A browser names the page a POST came from; one from another site is refused even
    before the token is compared (defence in depth beside SameSite cookies)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def check_csrf(request: Request, viewer: Annotated[Viewer, Depends(require_viewer)]) -> Viewer:
    """Actions need the session's CSRF token, in the form or in the X-CSRF-Token header."""
    if not same_origin(request):
        raise CsrfRejected("request refused: it did not come from this site")
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not token or not hmac.compare_digest(token.encode(), viewer.csrf.encode()):
        raise CsrfRejected("request refused: the form is out of date or not from this site; reload the page")
    return viewer


StateDep = Annotated[ViewerState, Depends(viewer_state)]
ViewerDep = Annotated[Viewer, Depends(require_viewer)]
ActionDep = Annotated[Viewer, Depends(check_csrf)]
