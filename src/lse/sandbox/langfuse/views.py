"""Stored records → the read API's shapes (observations v2, scores v3, experiment items)."""

from __future__ import annotations

from typing import Any

from lse.sandbox.langfuse.wire import parse_json

OBSERVATION_GROUPS = {
    "core": ("id", "traceId", "startTime", "endTime", "projectId", "parentObservationId", "type"),
    "basic": (
        "name",
        "level",
        "statusMessage",
        "version",
        "environment",
        "userId",
        "sessionId",
        "isRootObservation",
    ),
    "time": ("completionStartTime", "createdAt", "updatedAt"),
    "io": ("input", "output"),
    "metadata": ("metadata",),
    "model": ("model", "modelParameters"),
    "usage": ("usageDetails", "costDetails", "totalCost"),
    "prompt": ("promptId", "promptName", "promptVersion"),
    "metrics": ("latency", "timeToFirstToken"),
    "trace_context": ("tags", "release", "traceName"),
}


def observation_v2(obs: dict[str, Any], groups: set[str], expand: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group in {"core", *groups}:
        for key in OBSERVATION_GROUPS[group]:
            if key == "createdAt" or key == "updatedAt":
                out[key] = obs["receivedAt"]
            elif key == "latency":
                end, start = obs.get("endTime"), obs.get("startTime")
                out[key] = (end - start).total_seconds() if end and start else None
            elif key == "metadata":
                meta = obs.get("metadata") or {}
                out[key] = {k: (v if k in expand or len(str(v)) <= 200 else str(v)[:200]) for k, v in meta.items()}
            else:
                out[key] = obs.get(key)
    return out


def score_v3(score: dict[str, Any], groups: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: score[k] for k in ("id", "projectId", "name", "source", "timestamp", "environment", "createdAt", "updatedAt")
    }
    out["dataType"] = score["dataType"]
    out["value"] = score["value"]
    if "details" in groups:
        out.update(comment=score.get("comment"), configId=score.get("configId"), metadata=score.get("metadata"))
    if "annotation" in groups:
        out.update(authorUserId=None, queueId=score.get("queueId"))
    if "subject" in groups:
        if score.get("datasetRunId"):
            out["subject"] = {"kind": "experiment", "id": score["datasetRunId"]}
        elif score.get("sessionId"):
            out["subject"] = {"kind": "session", "id": score["sessionId"]}
        elif score.get("observationId"):
            out["subject"] = {"kind": "observation", "id": score["observationId"], "traceId": score["traceId"]}
        else:
            out["subject"] = {"kind": "trace", "id": score["traceId"]}
    return out


def experiment_item(
    obs: dict[str, Any], groups: set[str], scores: list[dict[str, Any]], score_limit: int
) -> dict[str, Any]:
    exp = obs["experiment"]
    out: dict[str, Any] = {
        "id": obs["id"],
        "traceId": obs["traceId"],
        "startTime": obs["startTime"],
        "endTime": obs["endTime"],
        "level": obs["level"],
        "environment": obs["environment"],
        "experimentId": exp["id"],
        "experimentName": exp["name"],
        "experimentItemId": exp["itemId"],
    }
    if "dataset" in groups:
        out.update(experimentDatasetId=exp["datasetId"], experimentItemVersion=exp["itemVersion"])
    if "io" in groups:
        out.update(
            input=parse_json(obs["input"]),
            output=parse_json(obs["output"]),
            expectedOutput=parse_json(exp["itemExpectedOutput"]),
        )
    if "metadata" in groups:
        out["metadata"] = obs.get("metadata")
    if "itemMetadata" in groups:
        out["experimentItemMetadata"] = exp["itemMetadata"]
    if "experimentMetadata" in groups:
        out.update(experimentMetadata=exp["metadata"], experimentDescription=exp["description"])
    if "scores" in groups:
        mine = [s for s in scores if s.get("traceId") == obs["traceId"] and s.get("observationId") in (None, obs["id"])]
        out["scores"] = [score_v3(s, {"details", "subject"}) for s in mine[:score_limit]]
    return out
