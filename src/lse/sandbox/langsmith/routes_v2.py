"""The v2 run query, `POST /api/v2/runs/query` (query_v2.py); absent (404) on a server
`ServerApis` says has no v2, as self-hosted LangSmith before 0.16."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lse.sandbox.langsmith.apis import ServerApis
from lse.sandbox.langsmith.query_v2 import V2QueryError, query_runs_v2
from lse.sandbox.langsmith.wire import dumps
from lse.sandbox.langsmith.world import World


def _json(obj: object, status: int = 200) -> Response:
    return Response(content=dumps(obj), status_code=status, media_type="application/json")


def build_v2_router(world: World, apis: Callable[[], ServerApis] = ServerApis) -> APIRouter:
    router = APIRouter()

    @router.post("/runs/query")
    async def runs_query_v2(request: Request) -> Response:
        if not apis().v2:
            return _json({"detail": "Not Found"}, 404)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _json({"detail": "request body must be JSON"}, 422)
        if not isinstance(body, dict):
            return _json({"detail": "request body must be a JSON object"}, 422)
        try:
            return _json(query_runs_v2(world, body))
        except V2QueryError as exc:
            return _json({"detail": str(exc)}, 422)

    return router
