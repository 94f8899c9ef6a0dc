"""Write paths the SDK sends to in the background: OTLP traces and score batches."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lse.sandbox.langfuse import otlp
from lse.sandbox.langfuse.scores import ingest_batch
from lse.sandbox.langfuse.state import LangfuseState, SandboxError
from lse.sandbox.langfuse.wire import json_response


def build_ingest_router(state: LangfuseState) -> APIRouter:
    router = APIRouter()

    @router.post("/api/public/otel/v1/traces")
    async def export_traces(request: Request) -> Response:
        body = await request.body()
        decoded = otlp.decode_body(
            body, request.headers.get("content-type", ""), request.headers.get("content-encoding", "")
        )
        state.add_observations(otlp.observations(decoded))
        return Response(otlp.response_bytes(), media_type="application/x-protobuf")

    @router.post("/api/public/scores")
    async def create_scores(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise SandboxError(400, "body must be JSON") from exc
        status, answer = ingest_batch(state, body)
        return json_response(answer, status)

    return router
