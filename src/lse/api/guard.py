"""The door every request passes: authenticate on headers alone, then cap the body.

An ASGI middleware in front of the app (so before FastAPI reads any body):

1. The `X-API-KEY` header is checked first for every `/api/v1` path (except the signed
   download URL). A missing or wrong key is answered 401 at once: the body is never
   read, so an unauthenticated request costs the server its headers and one indexed
   lookup. The tenant is left in the request scope for the route's dependency.
2. A body larger than its route's limit (`limit_for`) is refused 413 from its declared
   `Content-Length`, or — chunked or lying — the moment the bytes received pass the
   limit; nothing past the limit is read, buffered or spooled to disk.
3. A JSON body (at most a few hundred KB by then) is read whole and checked before the
   app parses it: UTF-8, and nested at most `MAX_JSON_DEPTH` deep, so a hostile depth is
   a 422, never a parser's recursion error.

The limits are documented in docs/security.md.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lse.datasets.csv_upload import MAX_CSV_BYTES
from lse.errors import AuthError, LseError
from lse.schema_types import MAX_DEPTH
from lse.settings import Settings
from lse.tenancy import authenticate

API_PREFIX = "/api/v1"
KB = 1024
MULTIPART_OVERHEAD = 64 * KB  # boundaries, part headers and the small form fields
CSV_UPLOAD_LIMIT = MAX_CSV_BYTES + MULTIPART_OVERHEAD
CONFIG_JSON_LIMIT = 256 * KB  # a config_blob with long instructions
SMALL_JSON_LIMIT = 16 * KB  # run creation, credentials, config renames
DEFAULT_LIMIT = 64 * KB  # any other request (including paths outside the API)
MAX_JSON_DEPTH = MAX_DEPTH + 4  # room for the body's own wrapping around a config_blob
TENANT_SCOPE_KEY = "lse.tenant"

_ROUTE_LIMITS: list[tuple[str, re.Pattern[str], int]] = [
    ("POST", re.compile(r"^/api/v1/evaluations/datasets/?$"), CSV_UPLOAD_LIMIT),
    ("POST", re.compile(r"^/datasets/?$"), CSV_UPLOAD_LIMIT),  # the web viewer's upload form
    ("POST", re.compile(r"^/api/v1/configs/?$"), CONFIG_JSON_LIMIT),
    ("POST", re.compile(r"^/api/v1/configs/[^/]+/versions/?$"), CONFIG_JSON_LIMIT),
    ("PATCH", re.compile(r"^/api/v1/configs/[^/]+/?$"), SMALL_JSON_LIMIT),
    ("POST", re.compile(r"^/api/v1/evaluations/?$"), SMALL_JSON_LIMIT),
    ("POST", re.compile(r"^/api/v1/credentials/?$"), SMALL_JSON_LIMIT),
    ("PATCH", re.compile(r"^/api/v1/credentials/?$"), SMALL_JSON_LIMIT),
]
_PUBLIC_API_PATHS = (re.compile(r"^/api/v1/evaluations/datasets/\d+/download$"),)
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]")

Responder = Callable[[int, str, str], Awaitable[None]]


def limit_for(method: str, path: str) -> int:
    """The most bytes a request to `method path` may send."""
    for route_method, pattern, limit in _ROUTE_LIMITS:
        if method == route_method and pattern.match(path):
            return limit
    return DEFAULT_LIMIT


def needs_key(path: str) -> bool:
    return path.startswith(API_PREFIX) and not any(p.match(path) for p in _PUBLIC_API_PATHS)


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` the moment a body passes its limit; FastAPI lets
    HTTPExceptions through its body parsing, so the app's handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body is larger than {limit // KB} KB, this route's limit")


def json_depth(raw: bytes) -> int:
    """How deep `raw` JSON nests (strings skipped), without parsing it."""
    depth = deepest = 0
    for byte in _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", raw)):
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


@dataclass
class _Request:
    scope: Scope
    receive: Receive
    send: Send
    limit: int

    def declared_length(self) -> int | None:
        for name, value in self.scope.get("headers", []):
            if name == b"content-length":
                text = value.decode("latin-1").strip()
                return int(text) if text.isdigit() else None
        return None

    def header(self, wanted: bytes) -> str | None:
        for name, value in self.scope.get("headers", []):
            if name == wanted:
                return value.decode("latin-1")
        return None

    def is_json(self) -> bool:
        kind = (self.header(b"content-type") or "").split(";")[0].strip().lower()
        return kind == "application/json" or kind.endswith("+json")


class RequestGuard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings, respond: Callable[..., Any]) -> None:
        self.app = app
        self.settings = settings
        self.respond = respond  # (status, message, code, headers=None) -> ASGI response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        req = _Request(scope, receive, send, limit_for(scope["method"], scope["path"]))
        if needs_key(scope["path"]):
            try:
                key = req.header(b"x-api-key")
                tenant = await run_in_threadpool(authenticate, self.settings, key)
            except AuthError as exc:
                await self._answer(req, exc.http_status, exc.message, exc.code, {"Connection": "close"})
                return
            except LseError as exc:  # the database is down or busy: say so, read nothing
                await self._answer(req, exc.http_status, exc.message, exc.code, {"Connection": "close"})
                return
            scope[TENANT_SCOPE_KEY] = tenant
        declared = req.declared_length()
        if declared is not None and declared > req.limit:
            await self._too_large(req)
            return
        if req.is_json() and scope["method"] in ("POST", "PUT", "PATCH"):
            await self._json(req)
            return
        await self.app(scope, self._counting(req), send)

    async def _answer(self, req: _Request, status: int, message: str, code: str, headers: dict | None = None) -> None:
        response = self.respond(status, message, code, headers=headers)
        await response(req.scope, req.receive, req.send)

    async def _too_large(self, req: _Request) -> None:
        detail = BodyTooLarge(req.limit).detail
        await self._answer(req, 413, detail, "payload_too_large", {"Connection": "close"})

    def _counting(self, req: _Request) -> Receive:
        received = 0

        async def receive() -> Message:
            nonlocal received
            message = await req.receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > req.limit:
                    raise BodyTooLarge(req.limit)
            return message

        return receive

    async def _json(self, req: _Request) -> None:
        """Read the (capped) JSON body, check it, and hand the app a replay of it."""
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await req.receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            received += len(body)
            if received > req.limit:
                await self._too_large(req)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            await self._answer(req, 422, f"request body is not UTF-8 (byte {exc.start})", "invalid_encoding")
            return
        if json_depth(raw) > MAX_JSON_DEPTH:
            await self._answer(
                req, 422, f"request body is nested deeper than {MAX_JSON_DEPTH} levels", "validation_error"
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await req.receive()  # after the body: wait for the disconnect, as ASGI does
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(req.scope, replay, req.send)
