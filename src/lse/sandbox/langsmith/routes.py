"""The LangSmith REST paths lse's fetch uses, served at the root and under /api/v1, and
the v2 run query under /api/v2 (routes_v2.py).

Handlers only translate HTTP to world queries; shapes and ordering live in `query.py`,
`feedback_query.py` and the world. Errors are JSON `{"detail": ...}` as LangSmith sends.
`ServerApis` (apis.py) decides whether the v1 run reads are live, deprecated or gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from lse.sandbox.langsmith.apis import ServerApis
from lse.sandbox.langsmith.feedback_query import list_feedback
from lse.sandbox.langsmith.query import QueryError, query_runs
from lse.sandbox.langsmith.wire import dumps
from lse.sandbox.langsmith.world import World

SERVER_VERSION = "0.18.4"

INFO: dict[str, Any] = {
    "version": SERVER_VERSION,
    "license_expiration_time": None,
    "batch_ingest_config": {
        "use_multipart_endpoint": True,
        "scale_up_qsize_trigger": 1000,
        "scale_up_nthreads_limit": 16,
        "scale_down_nempty_trigger": 4,
        "size_limit": 100,
        "size_limit_bytes": 20_971_520,
    },
    "instance_flags": {
        "ch_query_enabled": True,
        "sdb_query_enabled": False,
        "dataset_examples_multipart_enabled": True,
        "examples_multipart_enabled": True,
        "generate_ai_query_enabled": False,
        "org_creation_disabled": False,
        "payment_enabled": False,
        "personal_orgs_disabled": False,
        "s3_storage_enabled": True,
        "search_enabled": True,
        "show_ttl_ui": True,
        "trace_tier_duration_days": {"longlived": 400, "shortlived": 14},
        "workspace_scope_org_invites": False,
        "zstd_compression_enabled": True,
    },
    "customer_info": None,
}


def _json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=dumps(obj), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, detail: str) -> Response:
    return _json({"detail": detail}, status)


def _with_stats(world: World, project: dict[str, Any]) -> dict[str, Any]:
    keys = world.sorted_keys(project["name"])
    out = dict(project)
    out["run_count"] = len(keys)
    out["last_run_start_time"] = keys[-1][0].isoformat(timespec="microseconds") if keys else None
    return out


def _v1_gone(apis: ServerApis) -> Response:
    return _error(apis.v1_gone_status, "This endpoint has been removed: query runs with POST /api/v2/runs/query")


def build_router(world: World, apis: Callable[[], ServerApis] = ServerApis) -> APIRouter:
    router = APIRouter()

    @router.get("/info")
    async def info() -> Response:
        kind = apis()
        flags = {**INFO["instance_flags"], **kind.instance_flags()}
        return _json({**INFO, "version": kind.version, "instance_flags": flags})

    @router.get("/settings")
    async def settings() -> Response:
        return _json(
            {
                "id": world.tenant_id,
                "display_name": "lse sandbox",
                "tenant_handle": "lse-sandbox",
                "created_at": "2026-01-01T00:00:00.000000",
            }
        )

    @router.get("/sessions")
    async def sessions(request: Request) -> Response:
        params = request.query_params
        try:
            limit = int(params.get("limit", 100))
            offset = int(params.get("offset", 0))
        except ValueError:
            return _error(400, "limit and offset must be integers")
        if limit > 100:
            return _error(400, "limit must be less than or equal to 100")
        ids = {i.lower() for i in params.getlist("id")}
        name, contains = params.get("name"), params.get("name_contains")
        with world.lock:
            found = [
                p
                for p in world.projects.values()
                if (name is None or p["name"] == name)
                and (contains is None or contains in p["name"])
                and (not ids or p["id"] in ids)
            ]
            found.sort(key=lambda p: (p["start_time"], p["id"]), reverse=True)
            return _json([_with_stats(world, p) for p in found[offset : offset + limit]])

    @router.get("/sessions/{session_id}")
    async def session(session_id: str) -> Response:
        with world.lock:
            project = world.project_by_id(session_id)
            if project is None:
                return _error(404, f"Session {session_id} not found")
            return _json(_with_stats(world, project))

    @router.post("/runs/query")
    async def runs_query(request: Request) -> Response:
        kind = apis()
        if kind.v1 == "gone":
            return _v1_gone(kind)
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return _error(400, "request body must be JSON")
        if not isinstance(body, dict):
            return _error(400, "request body must be a JSON object")
        try:
            return _json(query_runs(world, body), headers=kind.v1_headers())
        except QueryError as exc:
            return _error(400, str(exc))

    @router.get("/runs/{run_id}")
    async def read_run(run_id: str) -> Response:
        kind = apis()
        if kind.v1 == "gone":
            return _v1_gone(kind)
        with world.lock:
            row = world.runs.get(run_id.lower())
            if row is None:
                return _error(404, f"Run {run_id} not found")
            return _json(row.data, headers=kind.v1_headers())

    @router.get("/feedback")
    async def feedback(request: Request) -> Response:
        params = request.query_params
        multi = {k: params.getlist(k) for k in ("run", "key", "session", "source")}
        try:
            return _json(list_feedback(world, params, multi))
        except QueryError as exc:
            return _error(400, str(exc))

    @router.get("/feedback/{feedback_id}")
    async def feedback_one(feedback_id: str) -> Response:
        with world.lock:
            rec = world.feedback.get(feedback_id.lower())
            if rec is None:
                return _error(404, f"Feedback {feedback_id} not found")
            return _json(rec)

    return router


def build_app(world: World, apis: Callable[[], ServerApis] = ServerApis) -> FastAPI:
    """The routes app (no auth, no faults: the gateway in front adds those)."""
    from lse.sandbox.langsmith.routes_v2 import build_v2_router

    app = FastAPI(title="lse LangSmith sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    router = build_router(world, apis)
    app.include_router(router)
    app.include_router(router, prefix="/api/v1")
    app.include_router(build_v2_router(world, apis), prefix="/api/v2")

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"Not Found: {request.url.path} is not served by the lse LangSmith sandbox")

    return app
