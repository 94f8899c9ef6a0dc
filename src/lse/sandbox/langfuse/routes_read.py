"""Read paths: project, health, observations v2, one trace, scores v3.

Observations v2 is Langfuse's real-time read path (the others may lag in production; here
every read is immediate). Its structured `filter` is served for the conditions listed in
`_matches`; any other condition is a 400 naming it, never silently ignored.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lse.sandbox.langfuse.state import ORG, PROJECT_ID, PROJECT_NAME, LangfuseState, SandboxError
from lse.sandbox.langfuse.views import OBSERVATION_GROUPS, observation_v2, score_v3
from lse.sandbox.langfuse.wire import (
    bool_param,
    csv_param,
    fields_param,
    int_param,
    json_response,
    page,
    params,
    parse_json,
    time_param,
)

OBSERVATION_PARAMS = (
    "fields",
    "expandMetadata",
    "limit",
    "cursor",
    "parseIoAsJson",
    "name",
    "userId",
    "sessionId",
    "type",
    "traceId",
    "level",
    "parentObservationId",
    "isRootObservation",
    "environment",
    "fromStartTime",
    "toStartTime",
    "version",
    "filter",
)
STRING_COLUMNS = {"id", "traceId", "name", "type", "environment", "level", "parentObservationId"}
SCORE_PARAMS = (
    "limit",
    "cursor",
    "fields",
    "id",
    "name",
    "source",
    "dataType",
    "environment",
    "configId",
    "queueId",
    "authorUserId",
    "value",
    "valueMin",
    "valueMax",
    "traceId",
    "sessionId",
    "observationId",
    "experimentId",
    "fromTimestamp",
    "toTimestamp",
)


def _condition(obs: dict[str, Any], cond: Any) -> bool:
    if not isinstance(cond, dict):
        raise SandboxError(400, "filter must be a JSON array of condition objects")
    kind, column, op, value = cond.get("type"), cond.get("column"), cond.get("operator"), cond.get("value")
    if kind == "string" and column in STRING_COLUMNS and op == "=":
        return obs.get(column) == value
    if kind == "stringObject" and column == "metadata" and op == "=" and isinstance(cond.get("key"), str):
        return (obs.get("metadata") or {}).get(cond["key"]) == value
    if kind == "boolean" and column == "isRootObservation" and op == "=":
        return obs["isRootObservation"] is value
    if kind == "datetime" and column == "startTime" and op in (">=", ">", "<", "<="):
        bound = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        start = obs["startTime"]
        return {">=": start >= bound, ">": start > bound, "<": start < bound, "<=": start <= bound}[op]
    raise SandboxError(400, f"filter condition {json.dumps(cond)} is not supported by the sandbox")


def _matches(obs: dict[str, Any], values: dict[str, str], conditions: list[Any] | None) -> bool:
    if conditions is not None:
        return all(_condition(obs, c) for c in conditions)
    for key in ("name", "userId", "sessionId", "type", "traceId", "level", "version"):
        if key in values and obs.get(key) != values[key]:
            return False
    if "parentObservationId" in values and obs["parentObservationId"] != (values["parentObservationId"] or None):
        return False
    root = bool_param(values, "isRootObservation")
    if root is not None and obs["isRootObservation"] is not root:
        return False
    envs = csv_param(values, "environment")
    if envs is not None and obs["environment"] not in envs:
        return False
    low, high = time_param(values, "fromStartTime"), time_param(values, "toStartTime")
    return not (low and obs["startTime"] < low) and not (high and obs["startTime"] >= high)


def build_read_router(state: LangfuseState) -> APIRouter:
    router = APIRouter()

    @router.get("/api/public/health")
    async def health() -> Response:
        return json_response({"status": "OK", "version": "3.0.0-lse-sandbox"})

    @router.get("/api/public/projects")
    async def projects(request: Request) -> Response:
        params(request, ())
        project = {"id": PROJECT_ID, "name": PROJECT_NAME, "organization": ORG, "metadata": {}, "retentionDays": None}
        return json_response({"data": [project]})

    @router.get("/api/public/v2/observations")
    async def observations(request: Request) -> Response:
        values = params(request, OBSERVATION_PARAMS)
        if bool_param(values, "parseIoAsJson"):
            raise SandboxError(400, "parseIoAsJson=true is no longer supported")
        groups = fields_param(values, OBSERVATION_GROUPS, ("core", "basic"))
        expand = csv_param(values, "expandMetadata") or set()
        limit = int_param(values, "limit", 50, low=1, high=1000)
        conditions = None
        if "filter" in values:
            try:
                conditions = json.loads(values["filter"])
            except ValueError as exc:
                raise SandboxError(400, "filter must be JSON") from exc
            if not isinstance(conditions, list):
                raise SandboxError(400, "filter must be a JSON array")
        with state.lock:
            rows = [o for o in state.observations if _matches(o, values, conditions)]
        rows.sort(key=lambda o: (o["startTime"], o["id"]), reverse=True)
        chunk, meta = page(rows, values, limit)
        return json_response({"data": [observation_v2(o, groups, expand) for o in chunk], "meta": meta})

    @router.get("/api/public/traces/{trace_id}")
    async def trace(trace_id: str, request: Request) -> Response:
        params(request, ())
        found = state.trace_observations(trace_id)
        if not found:
            raise SandboxError(404, f"Trace {trace_id} not found within authorized project")
        roots = [o for o in found if o["isRootObservation"]] or found
        root = min(roots, key=lambda o: o["startTime"])
        everything = {"core", "basic", "time", "io", "metadata", "model", "usage"}
        costs = [o["totalCost"] for o in found if o.get("totalCost") is not None]
        return json_response(
            {
                "id": trace_id,
                "projectId": PROJECT_ID,
                "timestamp": root["startTime"],
                "name": root.get("traceName") or root["name"],
                "input": parse_json(root["input"]),
                "output": parse_json(root["output"]),
                "metadata": root.get("traceMetadata") or root.get("metadata"),
                "environment": root["environment"],
                "sessionId": root.get("sessionId"),
                "userId": root.get("userId"),
                "tags": root.get("tags") or [],
                "public": False,
                "htmlPath": f"/project/{PROJECT_ID}/traces/{trace_id}",
                "totalCost": sum(costs) if costs else None,
                "observations": [observation_v2(o, everything, set()) for o in found],
                "scores": [score_v3(s, {"details", "subject"}) for s in state.trace_scores(trace_id)],
            }
        )

    @router.get("/api/public/v3/scores")
    async def scores(request: Request) -> Response:
        values = params(request, SCORE_PARAMS)
        limit = int_param(values, "limit", 50, low=1, high=100)
        groups = fields_param(values, ("details", "subject", "annotation"), ())
        if "experimentId" in values and any(k in values for k in ("traceId", "sessionId", "observationId")):
            raise SandboxError(400, "experimentId cannot be combined with traceId, sessionId or observationId")
        for unsupported in ("value", "valueMin", "valueMax", "authorUserId"):
            if unsupported in values:
                raise SandboxError(400, f"{unsupported} is not supported by the sandbox")
        filters = {
            "id": "id",
            "name": "name",
            "source": "source",
            "dataType": "dataType",
            "configId": "configId",
            "queueId": "queueId",
            "traceId": "traceId",
            "sessionId": "sessionId",
            "observationId": "observationId",
            "experimentId": "datasetRunId",
        }
        wanted = {field: csv_param(values, key) for key, field in filters.items() if key in values}
        envs = csv_param(values, "environment")
        low, high = time_param(values, "fromTimestamp"), time_param(values, "toTimestamp")
        with state.lock:
            rows = [
                s
                for s in state.scores
                if all(s.get(field) in allowed for field, allowed in wanted.items() if allowed is not None)
                and (envs is None or s["environment"] in envs)
                and not (low and s["timestamp"] < low)
                and not (high and s["timestamp"] >= high)
            ]
        rows.sort(key=lambda s: (s["timestamp"], s["id"]), reverse=True)
        chunk, meta = page(rows, values, limit)
        return json_response({"data": [score_v3(s, groups) for s in chunk], "meta": {**meta, "limit": limit}})

    return router
