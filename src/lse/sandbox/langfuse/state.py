"""The sandbox's in-memory Langfuse project: datasets, items, observations, scores.

Observations are kept exactly as received, one record per span that crossed the wire:
Langfuse treats traces and observations as immutable events, and a span sent twice is
two records there too, so a test can count copies and prove a client never re-sends.
Scores follow Langfuse's overwrite rule instead (see `scores.py`). One re-entrant lock
guards everything: the server thread writes while the test thread reads.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PROJECT_ID = "lse-sandbox-project"
PROJECT_NAME = "lse sandbox"
ORG = {"id": "lse-sandbox-org", "name": "lse sandbox"}


def now() -> datetime:
    return datetime.now(UTC)


class SandboxError(Exception):
    """A request the real API refuses: carries the HTTP status and message to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class LangfuseFaults:
    """All off by default; tests flip them at runtime.

    `down_status` answers every request with that status (a target that is up but broken);
    `latency_ms` delays every request; `status_for` answers requests whose path starts with
    a key with that status (e.g. {"/api/public/otel": 503}).
    """

    down_status: int | None = None
    latency_ms: int = 0
    status_for: dict[str, int] = field(default_factory=dict)


class LangfuseState:
    """Everything the sandbox serves, plus what crossed the wire (`requests`)."""

    def __init__(self, public_key: str, secret_key: str) -> None:
        self.public_key = public_key
        self.secret_key = secret_key
        self.lock = threading.RLock()
        self.faults = LangfuseFaults()
        self.datasets: dict[str, dict[str, Any]] = {}  # by name
        self.items: dict[str, dict[str, Any]] = {}  # by id
        self.observations: list[dict[str, Any]] = []  # every span received, duplicates kept
        self.scores: list[dict[str, Any]] = []  # after the overwrite rule
        self.requests: list[tuple[str, str]] = []
        self.by_kind: Counter[str] = Counter()

    # ---- tallies --------------------------------------------------------------------
    def record(self, method: str, path: str, kind: str) -> None:
        with self.lock:
            self.requests.append((method, path))
            self.by_kind[kind] += 1

    # ---- datasets -------------------------------------------------------------------
    def upsert_dataset(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/datasets upserts by name: description, metadata and schemas are replaced."""
        name = body["name"]
        with self.lock:
            stamp = now()
            existing = self.datasets.get(name)
            if existing is None:
                existing = {"id": f"ds-{uuid.uuid4().hex[:20]}", "name": name, "createdAt": stamp}
                self.datasets[name] = existing
            existing.update(
                description=body.get("description"),
                metadata=body.get("metadata"),
                inputSchema=body.get("inputSchema"),
                expectedOutputSchema=body.get("expectedOutputSchema"),
                projectId=PROJECT_ID,
                updatedAt=stamp,
            )
            return dict(existing)

    def upsert_item(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create or update a dataset item; an id belongs to one dataset for ever."""
        with self.lock:
            dataset = self.datasets.get(body["datasetName"])
            if dataset is None:
                raise SandboxError(404, f"Dataset {body['datasetName']!r} not found")
            item_id = body.get("id") or str(uuid.uuid4())
            stamp = now()
            item = self.items.get(item_id)
            if item is not None and item["datasetId"] != dataset["id"]:
                raise SandboxError(
                    409,
                    f"Dataset item {item_id!r} belongs to dataset {item['datasetName']!r}; "
                    "item ids are unique across datasets and cannot be reused",
                )
            if item is None:
                item = {
                    "id": item_id,
                    "createdAt": stamp,
                    "datasetId": dataset["id"],
                    "datasetName": dataset["name"],
                    "mediaReferences": [],
                }
                self.items[item_id] = item
            item.update(
                input=body.get("input"),
                expectedOutput=body.get("expectedOutput"),
                metadata=body.get("metadata"),
                sourceTraceId=body.get("sourceTraceId"),
                sourceObservationId=body.get("sourceObservationId"),
                status=body.get("status") or item.get("status") or "ACTIVE",
                updatedAt=stamp,
            )
            return dict(item)

    def dataset_items(self, dataset_name: str) -> list[dict[str, Any]]:
        with self.lock:
            return sorted(
                (dict(i) for i in self.items.values() if i["datasetName"] == dataset_name),
                key=lambda i: (i["createdAt"], i["id"]),
                reverse=True,
            )

    # ---- observations ---------------------------------------------------------------
    def add_observations(self, observations: list[dict[str, Any]]) -> None:
        with self.lock:
            stamp = now()
            for obs in observations:
                obs["receivedAt"] = stamp
                self.observations.append(obs)

    def trace_observations(self, trace_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(o) for o in self.observations if o["traceId"] == trace_id]

    def copies_of_trace(self, trace_id: str) -> int:
        """How many root observations a trace has: 1 for a trace sent once."""
        with self.lock:
            return sum(1 for o in self.observations if o["traceId"] == trace_id and o["isRootObservation"])

    # ---- scores ---------------------------------------------------------------------
    def trace_scores(self, trace_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(s) for s in self.scores if s.get("traceId") == trace_id]
