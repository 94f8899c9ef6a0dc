"""The FastAPI application: `create_app(settings)`.

Every response — success, LseError, unknown path, 405, request validation, unexpected
crash — leaves in the same envelope with its HTTP status kept, so a client needs one
parser. The lifespan starts and stops the in-process evaluation pool.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from lse import __version__
from lse.api.envelope import error_response
from lse.api.routes import configs, datasets, evaluations
from lse.datasets.csv_upload import MAX_CSV_BYTES
from lse.errors import LseError
from lse.settings import Settings
from lse.web.app import mount_viewer
from lse.worker import dispatch

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Multipart overhead allowance above the CSV limit before we refuse to read a body at all.
_MAX_BODY_BYTES = MAX_CSV_BYTES + 64 * 1024

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",)) or "request"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        dispatch.start_background(settings)
        try:
            yield
        finally:
            dispatch.stop_background()

    app = FastAPI(
        title="lse evaluation API",
        version=__version__,
        description="Kaapi-compatible evaluation API: datasets, configs, evaluation runs. "
        "Authenticate with the X-API-KEY header (`lse admin create-key`).",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        """Refuse oversized bodies by their declared length, before anything is read."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > _MAX_BODY_BYTES:
            return error_response(413, f"request body is larger than {MAX_CSV_BYTES // 1024} KB", "payload_too_large")
        return await call_next(request)

    @app.exception_handler(LseError)
    async def lse_error(_request: Request, exc: LseError):
        if exc.http_status >= 500:
            log.error("request failed: %s", exc, exc_info=exc)
        return error_response(exc.http_status, exc.message, exc.code, jsonable_encoder(exc.details))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint: see /docs for the API"
        return error_response(
            exc.status_code, message, _STATUS_CODES.get(exc.status_code, "http_error"), headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        errors = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
        for err in errors:
            err.pop("ctx", None)
            err.pop("input", None)
        return error_response(422, _validation_message(errors), "validation_error", errors)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception):
        log.exception("unexpected error")
        return error_response(500, f"internal error: {type(exc).__name__}", "internal_error")

    app.include_router(datasets.router, prefix=API_PREFIX)  # before /evaluations/{id}
    app.include_router(evaluations.router, prefix=API_PREFIX)
    app.include_router(configs.router, prefix=API_PREFIX)
    mount_viewer(app, settings)  # the web viewer at /, after the API's routes
    return app
