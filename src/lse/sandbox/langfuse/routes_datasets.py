"""Datasets (v2, upsert by name) and dataset items (upsert by id), as the SDK calls them."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lse.sandbox.langfuse.state import LangfuseState, SandboxError
from lse.sandbox.langfuse.wire import int_param, json_response, params

DATASET_FIELDS = {"name", "description", "metadata", "inputSchema", "expectedOutputSchema"}
ITEM_FIELDS = {
    "datasetName",
    "input",
    "expectedOutput",
    "metadata",
    "sourceTraceId",
    "sourceObservationId",
    "id",
    "status",
}
STATUSES = ("ACTIVE", "ARCHIVED")


async def _json_object(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise SandboxError(400, "body must be JSON") from exc
    if not isinstance(body, dict):
        raise SandboxError(400, "body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise SandboxError(400, f"unknown field(s): {', '.join(unknown)}")
    return {k: v for k, v in body.items() if v is not None}


def _paged(rows: list[dict[str, Any]], values: dict[str, str]) -> dict[str, Any]:
    number = int_param(values, "page", 1, low=1, high=10**9)
    limit = int_param(values, "limit", 50, low=1, high=100)
    chunk = rows[(number - 1) * limit : number * limit]
    return {
        "data": chunk,
        "meta": {
            "page": number,
            "limit": limit,
            "totalItems": len(rows),
            "totalPages": max(1, math.ceil(len(rows) / limit)),
        },
    }


def build_dataset_router(state: LangfuseState) -> APIRouter:
    router = APIRouter()

    @router.post("/api/public/v2/datasets")
    async def create_dataset(request: Request) -> Response:
        body = await _json_object(request, DATASET_FIELDS)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SandboxError(400, "name is required")
        return json_response(state.upsert_dataset(body))

    @router.get("/api/public/v2/datasets")
    async def list_datasets(request: Request) -> Response:
        values = params(request, ("page", "limit"))
        with state.lock:
            rows = sorted((dict(d) for d in state.datasets.values()), key=lambda d: d["createdAt"], reverse=True)
        return json_response(_paged(rows, values))

    @router.get("/api/public/v2/datasets/{name:path}")
    async def get_dataset(name: str, request: Request) -> Response:
        params(request, ())
        with state.lock:
            dataset = state.datasets.get(name)
            if dataset is None:
                raise SandboxError(404, f"Dataset {name!r} not found")
            return json_response(dict(dataset))

    @router.post("/api/public/dataset-items")
    async def create_item(request: Request) -> Response:
        body = await _json_object(request, ITEM_FIELDS)
        if not isinstance(body.get("datasetName"), str):
            raise SandboxError(400, "datasetName is required")
        if "id" in body and (not isinstance(body["id"], str) or not body["id"]):
            raise SandboxError(400, "id must be a non-empty string")
        if body.get("status") not in (None, *STATUSES):
            raise SandboxError(400, f"status must be one of {', '.join(STATUSES)}")
        return json_response(state.upsert_item(body))

    @router.get("/api/public/dataset-items")
    async def list_items(request: Request) -> Response:
        values = params(request, ("datasetName", "sourceTraceId", "sourceObservationId", "version", "page", "limit"))
        if "version" in values:
            raise SandboxError(400, "the sandbox keeps no item versions; omit version")
        name = values.get("datasetName")
        if name is not None and name not in state.datasets:
            raise SandboxError(404, f"Dataset {name!r} not found")
        with state.lock:
            rows = [
                dict(i)
                for i in state.items.values()
                if (name is None or i["datasetName"] == name)
                and all(i.get(k) == values[k] for k in ("sourceTraceId", "sourceObservationId") if k in values)
            ]
        rows.sort(key=lambda i: (i["createdAt"], i["id"]), reverse=True)
        return json_response(_paged(rows, values))

    @router.get("/api/public/dataset-items/{item_id}")
    async def get_item(item_id: str, request: Request) -> Response:
        params(request, ())
        with state.lock:
            item = state.items.get(item_id)
            if item is None:
                raise SandboxError(404, f"Dataset item {item_id!r} not found")
            return json_response(dict(item))

    return router
