"""POST /api/public/scores: validation and Langfuse's overwrite rule.

A score replaces a stored one only when its id, its name and the UTC day of its timestamp
all match; any other score with a known id is a new record. That is Langfuse's identity
rule, and the trap it sets: re-sending a score with a fresh timestamp duplicates it.
A batch answers 202 when every score is accepted, 207 with counts and messages otherwise.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from lse.sandbox.langfuse.state import PROJECT_ID, LangfuseState, now

DATA_TYPES = ("NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT", "CORRECTION")
FIELDS = {
    "id",
    "traceId",
    "sessionId",
    "observationId",
    "datasetRunId",
    "name",
    "value",
    "comment",
    "metadata",
    "environment",
    "queueId",
    "dataType",
    "configId",
    "source",
    "timestamp",
}


class ScoreRejected(ValueError):
    pass


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ScoreRejected("timestamp must be an ISO 8601 string")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ScoreRejected(f"timestamp {value!r} is not ISO 8601") from exc
    if ts.tzinfo is None:
        raise ScoreRejected(f"timestamp {value!r} has no UTC offset")
    return ts


def validate(raw: Any) -> dict[str, Any]:
    """The score as stored, or ScoreRejected with the reason."""
    if not isinstance(raw, dict):
        raise ScoreRejected("each score must be a JSON object")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise ScoreRejected(f"unknown score field(s): {', '.join(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScoreRejected("name is required")
    subjects = [k for k in ("traceId", "sessionId", "datasetRunId") if raw.get(k)]
    if len(subjects) != 1:
        raise ScoreRejected("exactly one of traceId, sessionId or datasetRunId is required")
    if raw.get("observationId") and not raw.get("traceId"):
        raise ScoreRejected("observationId needs traceId")
    data_type = raw.get("dataType") or "NUMERIC"
    if data_type not in DATA_TYPES:
        raise ScoreRejected(f"dataType must be one of {', '.join(DATA_TYPES)}")
    value = raw.get("value")
    if data_type in ("NUMERIC", "BOOLEAN"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScoreRejected(f"a {data_type} score needs a numeric value (got {value!r})")
        if data_type == "BOOLEAN" and value not in (0, 1):
            raise ScoreRejected("a BOOLEAN score is 0 or 1")
    elif not isinstance(value, str):
        raise ScoreRejected(f"a {data_type} score needs a string value")
    if raw.get("source") not in (None, "API", "ANNOTATION"):
        raise ScoreRejected("source must be API or ANNOTATION")
    stamp = now()
    ts = _timestamp(raw["timestamp"]) if raw.get("timestamp") is not None else stamp
    return {
        "id": raw.get("id") or str(uuid.uuid4()),
        "projectId": PROJECT_ID,
        "name": name,
        "value": value,
        "dataType": data_type,
        "source": raw.get("source") or "API",
        "timestamp": ts,
        "environment": raw.get("environment") or "default",
        "comment": raw.get("comment"),
        "metadata": raw.get("metadata"),
        "configId": raw.get("configId"),
        "queueId": raw.get("queueId"),
        "traceId": raw.get("traceId"),
        "observationId": raw.get("observationId"),
        "sessionId": raw.get("sessionId"),
        "datasetRunId": raw.get("datasetRunId"),
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def _same_identity(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["id"] == b["id"] and a["name"] == b["name"] and a["timestamp"].date() == b["timestamp"].date()


def ingest(state: LangfuseState, score: dict[str, Any]) -> str:
    """Store one validated score; returns "updated" or "created"."""
    with state.lock:
        for i, old in enumerate(state.scores):
            if _same_identity(old, score):
                state.scores[i] = {**score, "createdAt": old["createdAt"]}
                return "updated"
        state.scores.append(score)
        return "created"


def ingest_batch(state: LangfuseState, body: Any) -> tuple[int, dict[str, Any]]:
    """A JSON list of scores → (status, response body); a single object is the legacy form."""
    if isinstance(body, dict):
        try:
            score = validate(body)
        except ScoreRejected as exc:
            return 400, {"message": str(exc), "error": "InvalidRequestError"}
        ingest(state, score)
        return 200, {"id": score["id"]}
    if not isinstance(body, list) or not body:
        return 400, {"message": "body must be a non-empty JSON list of scores", "error": "InvalidRequestError"}
    errors = []
    for raw in body:
        try:
            ingest(state, validate(raw))
        except ScoreRejected as exc:
            errors.append({"message": str(exc)})
    if errors:
        return 207, {"accepted": len(body) - len(errors), "rejected": len(errors), "errors": errors}
    return 202, {"message": "Accepted"}
