"""The FastAPI app: routes, OpenAI-shaped errors for unknown paths, and the headers every
response carries (x-request-id, openai-processing-ms, x-ratelimit-*), plus status counting.

The header/status layer is a plain ASGI middleware so it sees every response, including
errors produced by Starlette itself (404, 405), without buffering bodies.
"""

from __future__ import annotations

import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import SandboxAPIError
from .routes_batches import router as batches_router
from .routes_embeddings import router as embeddings_router
from .routes_files import router as files_router
from .routes_models import router as models_router
from .routes_responses import router as responses_router
from .state import SandboxState


class WireHeadersMiddleware:
    """Stamps common headers on each HTTP response and counts its status code."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.state.stats.record_status(message["status"])
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = {
                    "x-request-id": f"req_{uuid.uuid4().hex}",
                    "openai-version": "2020-10-01",
                    "openai-processing-ms": str(int((time.monotonic() - started) * 1000)),
                    **self.state.limits["other"].headers(self.state.faults),
                }
                headers += [(k.encode(), v.encode()) for k, v in extra.items() if k.encode() not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_app(state: SandboxState) -> FastAPI:
    app = FastAPI(title="lse OpenAI sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = state
    app.include_router(responses_router)
    app.include_router(embeddings_router)
    app.include_router(models_router)
    app.include_router(files_router)
    app.include_router(batches_router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            message = f"Invalid URL ({request.method} {request.url.path})"
        else:
            message = str(exc.detail)
        return SandboxAPIError(exc.status_code, message).to_response()

    app.add_middleware(WireHeadersMiddleware, state=state)
    return app
