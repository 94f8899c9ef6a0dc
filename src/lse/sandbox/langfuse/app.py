"""The app: every request is tallied, faulted if a fault says so, authenticated with
HTTP Basic (public key : secret key, as the SDK sends), then routed."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response

from lse.sandbox.langfuse.routes_datasets import build_dataset_router
from lse.sandbox.langfuse.routes_experiments import build_experiment_router
from lse.sandbox.langfuse.routes_ingest import build_ingest_router
from lse.sandbox.langfuse.routes_read import build_read_router
from lse.sandbox.langfuse.state import LangfuseState, SandboxError
from lse.sandbox.langfuse.wire import error_response

KINDS = (
    ("/api/public/otel/", "otel"),
    ("/api/public/scores", "scores"),
    ("/api/public/v3/scores", "scores_read"),
    ("/api/public/v2/datasets", "datasets"),
    ("/api/public/dataset-items", "dataset_items"),
    ("/api/public/experiment", "experiments"),
    ("/api/public/v2/observations", "observations"),
    ("/api/public/traces", "traces"),
)


def kind_of(path: str) -> str:
    for prefix, kind in KINDS:
        if path.startswith(prefix):
            return kind
    return "other"


def _authorized(state: LangfuseState, header: str) -> bool:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        public, _, secret = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return public == state.public_key and secret == state.secret_key


def build_app(state: LangfuseState) -> FastAPI:
    app = FastAPI(title="lse Langfuse sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    for router in (
        build_ingest_router(state),
        build_dataset_router(state),
        build_experiment_router(state),
        build_read_router(state),
    ):
        app.include_router(router)

    @app.middleware("http")
    async def gateway(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        state.record(request.method, path, kind_of(path))
        faults = state.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.down_status is not None:
            return error_response(faults.down_status, "sandbox fault: the service is unavailable")
        for prefix, status in faults.status_for.items():
            if path.startswith(prefix):
                return error_response(status, f"sandbox fault on {prefix}")
        if path != "/api/public/health" and not _authorized(state, request.headers.get("authorization", "")):
            return error_response(401, "Invalid credentials: send HTTP Basic with the public and secret key")
        return await call_next(request)

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> Response:
        return error_response(exc.status, exc.message)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(404, f"{request.method} {request.url.path} is not served by the lse Langfuse sandbox")

    @app.exception_handler(405)
    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, f"{request.method} is not allowed on {request.url.path}")

    return app
