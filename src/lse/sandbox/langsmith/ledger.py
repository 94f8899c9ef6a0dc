"""What clients wrote to the sandbox: datasets, examples, experiments, runs, feedback.

Written runs, feedback and projects go into the same `World` the read routes serve, so
a run posted here is read back by `GET /runs/{id}`, found by `POST /runs/query` and can
be archived like any other. Duplicates follow the real server: a run id it already has
is refused with 409 (LangSmith's idempotency for runs); a feedback id sent twice is
stored twice in `feedback_writes` (the server documents no uniqueness on it), so a
test can prove a client never re-sends one. Every accepted write is also logged in
order, for tests that assert on what crossed the wire.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

from lse.sandbox.langsmith.wire import iso, parse_ts
from lse.sandbox.langsmith.world import World

_ledgers: weakref.WeakKeyDictionary[World, Ledger] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


class WriteError(Exception):
    """A write the real API refuses: status and detail to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def now_iso() -> str:
    return iso(datetime.now(UTC))


def as_uuid(value: Any, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError) as exc:
        raise WriteError(422, f"{what} must be a UUID, got {value!r}") from exc


def ts(value: Any, what: str) -> datetime:
    try:
        return parse_ts(str(value))
    except ValueError as exc:
        raise WriteError(422, f"{what} must be an ISO-8601 datetime, got {value!r}") from exc


class Ledger:
    """The write-side state of one sandbox world (`ledger_of(world)`)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lock = world.lock
        self.datasets: dict[str, dict[str, Any]] = {}
        self.examples: dict[str, dict[str, Any]] = {}
        self.run_ids: set[str] = set()  # runs accepted through the write routes
        self.run_posts: list[str] = []  # every accepted run create, in order
        self.run_conflicts: list[str] = []  # run ids refused as already there
        self.feedback_writes: list[dict[str, Any]] = []  # every accepted feedback create
        self.feedback_updates: list[tuple[str, dict[str, Any]]] = []
        self.sessions_created: list[str] = []

    # ---- projects -------------------------------------------------------------------
    def project(self, name: str) -> dict[str, Any]:
        """The named project, created (as LangSmith does on first use) when missing."""
        with self.lock:
            existing = self.world.projects.get(name)
            if existing is not None:
                return existing
            project = self.world.add_project(name, created=datetime.now(UTC).replace(tzinfo=None))
            self.sessions_created.append(project["id"])
            return project

    def project_by_id(self, project_id: str) -> dict[str, Any]:
        project = self.world.project_by_id(project_id)
        if project is None:
            raise WriteError(404, f"Session {project_id} not found")
        return project

    # ---- datasets and examples ------------------------------------------------------
    def dataset(self, dataset_id: str) -> dict[str, Any]:
        found = self.datasets.get(dataset_id.lower())
        if found is None:
            raise WriteError(404, f"Dataset {dataset_id} not found")
        return found

    def dataset_examples(self, dataset_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.examples.values() if e["dataset_id"] == dataset_id]

    def refresh_dataset(self, dataset_id: str) -> None:
        dataset = self.datasets[dataset_id]
        dataset["example_count"] = len(self.dataset_examples(dataset_id))
        dataset["modified_at"] = now_iso()

    # ---- runs -----------------------------------------------------------------------
    def has_run(self, run_id: str) -> bool:
        return run_id in self.world.runs or run_id in self.run_ids

    def record_conflict(self, run_id: str) -> None:
        self.run_conflicts.append(run_id)

    def publish_run(self, project: str, data: dict[str, Any]) -> None:
        """Store a written run where the read routes see it."""
        with self.lock:
            self.run_ids.add(data["id"])
            self.run_posts.append(data["id"])
            self.world._insert(project, [data], [])

    def publish_feedback(self, record: dict[str, Any]) -> None:
        """Store a written feedback record; a repeated id is kept as a second write."""
        with self.lock:
            self.feedback_writes.append(dict(record))
            run = self.world.runs.get(record["run_id"]) if record.get("run_id") else None
            if run is not None:
                self.world._insert(run.project, [], [record])
            else:
                self.world.feedback[record["id"]] = record

    def feedback_count(self, feedback_id: str) -> int:
        with self.lock:
            return sum(1 for f in self.feedback_writes if f["id"] == feedback_id)


def ledger_of(world: World) -> Ledger:
    """The ledger of `world` (one per world, created on first use)."""
    with _registry_lock:
        ledger = _ledgers.get(world)
        if ledger is None:
            ledger = Ledger(world)
            _ledgers[world] = ledger
        return ledger
