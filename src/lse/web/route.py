"""The viewer's route class: pages answer in HTML, whatever goes wrong.

The app's exception handlers answer in the API's JSON envelope; a person in a browser
needs a page instead. A route class (FastAPI's way to change error handling for one
router) catches what the handlers would and renders it, and adds the viewer's security
headers to every response.

It also checks the session of a request that carries a body (a form, a CSV upload)
before that body is read, on every route that needs a signed-in viewer: FastAPI parses
a form before it runs the route's dependencies, so without this a visitor with no
session could make the viewer read and parse an upload (up to the body cap) only to be
sent to the sign-in page. The API checks its key first the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from lse.errors import LseError
from lse.web.deps import SignInRequired, current_viewer, require_viewer
from lse.web.rendering import SECURITY_HEADERS, render

log = logging.getLogger(__name__)


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form"))
        parts.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    try:
        viewer = current_viewer(request)
    except LseError:
        viewer = None
    html = render("error.html", status=status, message=message, viewer=viewer, csrf=viewer.csrf if viewer else None)
    return HTMLResponse(html, status_code=status)


# Methods whose requests carry no body: their dependencies run before anything is read.
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _needs_viewer(dependant: Dependant) -> bool:
    """Whether the route (or any dependency of it) requires a signed-in viewer."""
    return dependant.call is require_viewer or any(_needs_viewer(d) for d in dependant.dependencies)


class ViewerRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        needs_viewer = _needs_viewer(self.dependant)

        async def handler(request: Request) -> Response:
            try:
                if needs_viewer and request.method not in _BODILESS:
                    require_viewer(request)  # before the body is read (module doc)
                response = await original(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET" or request.headers.get("hx-request"):
                    target = "/"
                response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
                if request.headers.get("hx-request"):  # htmx follows this header, not a 303
                    response.headers["HX-Redirect"] = response.headers["location"]
            except LseError as exc:
                if exc.http_status >= 500:
                    log.error("viewer request failed: %s", exc, exc_info=exc)
                response = error_page(request, exc.http_status, exc.message)
            except RequestValidationError as exc:
                response = error_page(request, 422, _validation_text(exc))
            except HTTPException as exc:
                response = error_page(request, exc.status_code, str(exc.detail))
            except Exception as exc:
                log.exception("viewer request failed")
                response = error_page(request, 500, f"internal error: {type(exc).__name__}")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handler
