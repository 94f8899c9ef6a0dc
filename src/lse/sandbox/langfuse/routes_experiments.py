"""Experiments (dataset runs) and their items, as Langfuse derives them from spans.

An experiment item is an observation whose `langfuse.experiment.item.root_observation_id`
names itself; an experiment is every item sharing one experiment id. Both lists require
a start-time lower bound (`fromStartTime`), as the real API does, and come newest first.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lse.sandbox.langfuse.state import LangfuseState, SandboxError
from lse.sandbox.langfuse.views import experiment_item, score_v3
from lse.sandbox.langfuse.wire import csv_param, fields_param, int_param, json_response, page, params, time_param

ITEM_GROUPS = ("core", "dataset", "io", "metadata", "itemMetadata", "experimentMetadata", "scores")


def _items(state: LangfuseState, values: dict[str, str]) -> list[dict[str, Any]]:
    if "filter" in values:
        raise SandboxError(400, "the sandbox serves the experiment filters as query parameters only")
    low = time_param(values, "fromStartTime", required=True)
    high = time_param(values, "toStartTime")
    wanted = {
        field: csv_param(values, key)
        for key, field in (
            ("experimentId", "id"),
            ("id", "id"),
            ("experimentName", "name"),
            ("name", "name"),
            ("experimentItemId", "itemId"),
            ("datasetId", "datasetId"),
        )
        if key in values
    }
    with state.lock:
        rows = [
            o
            for o in state.observations
            if o["experiment"] is not None
            and o["experiment"]["itemRootObservationId"] == o["id"]
            and low is not None
            and o["startTime"] >= low
            and not (high and o["startTime"] >= high)
            and all(o["experiment"].get(f) in allowed for f, allowed in wanted.items() if allowed is not None)
        ]
    rows.sort(key=lambda o: (o["startTime"], o["id"]), reverse=True)
    return rows


def build_experiment_router(state: LangfuseState) -> APIRouter:
    router = APIRouter()

    @router.get("/api/public/experiment-items")
    async def experiment_items(request: Request) -> Response:
        values = params(
            request,
            (
                "fields",
                "limit",
                "scoreLimit",
                "cursor",
                "fromStartTime",
                "toStartTime",
                "experimentId",
                "experimentName",
                "experimentItemId",
                "datasetId",
                "filter",
            ),
        )
        groups = fields_param(values, ITEM_GROUPS, ("core", "dataset"))
        limit = int_param(values, "limit", 50, low=1, high=100)
        score_limit = int_param(values, "scoreLimit", 50, low=1, high=50)
        chunk, meta = page(_items(state, values), values, limit)
        with state.lock:
            scores = list(state.scores)
        return json_response({"data": [experiment_item(o, groups, scores, score_limit) for o in chunk], "meta": meta})

    @router.get("/api/public/experiments")
    async def experiments(request: Request) -> Response:
        values = params(
            request,
            ("fields", "limit", "scoreLimit", "cursor", "fromStartTime", "toStartTime", "id", "name", "datasetId"),
        )
        groups = fields_param(values, ("core", "metadata", "scores"), ("core",))
        limit = int_param(values, "limit", 50, low=1, high=100)
        score_limit = int_param(values, "scoreLimit", 50, low=1, high=50)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for obs in _items(state, values):
            grouped.setdefault(obs["experiment"]["id"], []).append(obs)
        with state.lock:
            scores = list(state.scores)
        rows = []
        for exp_id, members in grouped.items():
            first = members[-1]["experiment"]
            row: dict[str, Any] = {
                "id": exp_id,
                "name": first["name"],
                "description": first["description"],
                "startTime": min(o["startTime"] for o in members),
                "endTime": max(o["endTime"] or o["startTime"] for o in members),
                "itemCount": len(members),
                "datasetId": first["datasetId"],
            }
            if "metadata" in groups:
                row["metadata"] = first["metadata"]
            if "scores" in groups:
                mine = [s for s in scores if s.get("datasetRunId") == exp_id][:score_limit]
                row["scores"] = [score_v3(s, {"details", "subject"}) for s in mine]
            rows.append(row)
        rows.sort(key=lambda r: r["endTime"], reverse=True)
        chunk, meta = page(rows, values, limit)
        return json_response({"data": chunk, "meta": meta})

    return router
