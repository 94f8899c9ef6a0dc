"""Sign in with an API key, sign out.

The sign-in form is protected against login CSRF by a double-submit token (a random
value in a short-lived cookie and in the form), since no session exists yet.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lse.errors import AuthError
from lse.web.auth import sign_in
from lse.web.deps import ActionDep, CsrfRejected, StateDep, current_viewer, same_origin
from lse.web.rendering import render
from lse.web.route import ViewerRoute
from lse.web.session import COOKIE, LOGIN_COOKIE, MAX_AGE_S, SessionData, new_csrf_token

router = APIRouter(route_class=ViewerRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//host`, a scheme, or a backslash trick."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_form(request: Request, next_path: str, error: str | None = None, status: int = 200) -> Response:
    token = new_csrf_token()
    html = render("login.html", login_token=token, next_path=next_path, error=error)
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", secure=_secure(request), path="/login"
    )
    return response


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/archive" if current_viewer(request) else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if current_viewer(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    state: StateDep,
    api_key: Annotated[str, Form(max_length=512)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not same_origin(request) or not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        raise CsrfRejected("sign-in refused: the form is out of date; reload the page and try again")
    if not api_key.strip():
        return _login_form(request, safe_next(next), error="enter an API key", status=401)
    try:
        _tenant, key_id = sign_in(state.settings, api_key)
    except AuthError as exc:
        return _login_form(request, safe_next(next), error=exc.message, status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    cookie = state.signer.dumps(SessionData(key_id=key_id, csrf=new_csrf_token()))
    response.set_cookie(COOKIE, cookie, max_age=MAX_AGE_S, httponly=True, samesite="lax", secure=_secure(request))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(_viewer: ActionDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
