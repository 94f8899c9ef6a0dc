"""The sandbox's in-memory LangSmith: projects, runs, feedback, and the mutators tests use
to make the upstream change under the archive (edits, new feedback, retention, loss).

Runs are stored wire-ready (v1's shape); `RunRow` keeps parsed times beside them for
filtering, the run's own usage and its subtree's first token time for v2's
`include_subtree_usage`, and a per-project index sorted by (start_time, id) makes cursor
pages cheap. Every read and
write takes one re-entrant lock: the server thread reads while the test thread mutates.
"""

from __future__ import annotations

import bisect
import random
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lse.sandbox.langsmith.generator import TraceContext, build_trace, feedback_for_trace, generate_day
from lse.sandbox.langsmith.hard_cases import build_hard_cases
from lse.sandbox.langsmith.records import OWN_USAGE, feedback_json, v1_costs
from lse.sandbox.langsmith.spec import SandboxSpec
from lse.sandbox.langsmith.stats import feedback_stats
from lse.sandbox.langsmith.wire import iso

SortKey = tuple[datetime, str]


@dataclass(slots=True)
class RunRow:
    data: dict[str, Any]
    start: datetime
    end: datetime | None
    project: str
    own_usage: dict[str, Any] | None = None  # tokens and costs before the subtree's roll-up
    subtree_first_token: str | None = None  # the earliest first_token_time in its subtree

    @property
    def key(self) -> SortKey:
        return (self.start, self.data["id"])


def _uuid_from(text: str) -> str:
    return str(uuid.UUID(int=random.Random(text).getrandbits(128), version=4))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class World:
    """All data the sandbox serves. Build one with `World.from_specs(specs)`."""

    def __init__(self, tenant_id: str | None = None) -> None:
        self.lock = threading.RLock()
        self.tenant_id = tenant_id or _uuid_from("lse-sandbox-tenant")
        self.projects: dict[str, dict[str, Any]] = {}
        self._project_ids: dict[str, str] = {}
        self.runs: dict[str, RunRow] = {}
        self._trace_runs: dict[str, list[str]] = {}
        self.feedback: dict[str, dict[str, Any]] = {}
        self._run_feedback: dict[str, list[str]] = {}
        self._index: dict[str, list[SortKey]] = {}
        self._dirty: set[str] = set()
        self.hard_case_ids: dict[str, str] = {}
        self._rng = random.Random("lse-sandbox-mutations")

    # ---- building -------------------------------------------------------------------
    @classmethod
    def from_specs(cls, specs: Iterable[SandboxSpec]) -> World:
        world = cls()
        for spec in specs:
            world.add_spec(spec)
        return world

    def add_spec(self, spec: SandboxSpec) -> None:
        """Generate a spec's project-days (hard cases around its first day)."""
        with self.lock:
            self.add_project(spec.project, created=datetime.combine(min(spec.days), time()) - timedelta(days=30))
            ctx = self._ctx(spec.project)
            for day in spec.days:
                rng = random.Random(f"{spec.seed}:{spec.project}:{day.isoformat()}")
                runs, feedback = generate_day(
                    rng,
                    ctx,
                    day,
                    traces=spec.traces_per_day,
                    children=spec.children_per_trace,
                    feedback_share=spec.feedback_trace_share,
                    extra_keys=spec.hard_cases,
                )
                self._insert(spec.project, runs, feedback)
            if spec.hard_cases:
                rng = random.Random(f"{spec.seed}:{spec.project}:hard-cases")
                runs, feedback, ids = build_hard_cases(rng, ctx, spec.days[0])
                self._insert(spec.project, runs, feedback)
                prefix = "" if not self.hard_case_ids else f"{spec.project}:"
                self.hard_case_ids.update({prefix + k: v for k, v in ids.items()})

    def add_project(self, name: str, *, created: datetime | None = None) -> dict[str, Any]:
        """Create (or return) a project; its id derives from its name."""
        with self.lock:
            if name in self.projects:
                return self.projects[name]
            project: dict[str, Any] = {
                "id": _uuid_from(f"project:{name}"),
                "name": name,
                "tenant_id": self.tenant_id,
                "start_time": iso(created or datetime(2026, 1, 1)),
                "end_time": None,
                "description": None,
                "extra": {"metadata": {}},
                "reference_dataset_id": None,
                "default_dataset_id": None,
                "trace_tier": "shortlived",
                "run_count": None,
                "last_run_start_time": None,
                "feedback_stats": None,
                "run_facets": None,
            }
            self.projects[name] = project
            self._project_ids[project["id"]] = name
            self._index[name] = []
            return project

    def add_trace(
        self, project: str, root_start: datetime, n_children: int, with_feedback: bool, *, seed: int | None = None
    ) -> list[dict[str, Any]]:
        """Add one ordinary trace (and, if asked, its feedback); returns its runs, root first."""
        with self.lock:
            self.add_project(project)
            rng = random.Random(seed) if seed is not None else self._rng
            if root_start.tzinfo is not None:
                root_start = root_start.astimezone(UTC).replace(tzinfo=None)
            runs = build_trace(rng, self._ctx(project), root_start, n_children)
            feedback = feedback_for_trace(rng, runs, extra_keys=False) if with_feedback else []
            self._insert(project, runs, feedback)
            return [self.runs[r["id"]].data for r in runs]

    def _ctx(self, project: str) -> TraceContext:
        return TraceContext(tenant_id=self.tenant_id, session_id=self.projects[project]["id"])

    def _insert(self, project: str, runs: list[dict[str, Any]], feedback: list[dict[str, Any]]) -> None:
        first_tokens: dict[str, str] = {}
        for data in runs:
            token: str | None = data.get("first_token_time")
            if not token:
                continue
            for holder in (*data["parent_run_ids"], data["id"]):
                earlier = first_tokens.get(holder)
                first_tokens[holder] = token if earlier is None else min(earlier, token)
        for data in runs:
            end = data["end_time"]
            own = data.pop(OWN_USAGE, None)
            v1_costs(data)
            if own is not None:
                v1_costs(own)
            row = RunRow(
                data,
                datetime.fromisoformat(data["start_time"]),
                datetime.fromisoformat(end) if end else None,
                project,
                own_usage=own,
                subtree_first_token=first_tokens.get(data["id"]),
            )
            self.runs[data["id"]] = row
            self._trace_runs.setdefault(data["trace_id"], []).append(data["id"])
        for rec in feedback:
            self.feedback[rec["id"]] = rec
            self._run_feedback.setdefault(rec["run_id"], []).append(rec["id"])
        for run_id in {rec["run_id"] for rec in feedback}:
            self._restat(run_id)
        self._dirty.add(project)

    # ---- reading --------------------------------------------------------------------
    def project_by_id(self, project_id: str) -> dict[str, Any] | None:
        name = self._project_ids.get(project_id.lower())
        return self.projects.get(name) if name else None

    def sorted_keys(self, project: str) -> list[SortKey]:
        """The project's runs ordered by (start_time, id), rebuilt lazily after changes."""
        with self.lock:
            if project in self._dirty:
                self._index[project] = sorted(r.key for r in self.runs.values() if r.project == project)
                self._dirty.discard(project)
            return self._index.get(project, [])

    def trace_rows(self, trace_id: str) -> list[RunRow]:
        with self.lock:
            return [self.runs[i] for i in self._trace_runs.get(trace_id, []) if i in self.runs]

    def run_feedback_records(self, run_id: str) -> list[dict[str, Any]]:
        with self.lock:
            ids = self._run_feedback.get(run_id, [])
            return sorted((self.feedback[i] for i in ids), key=lambda r: (r["created_at"], r["id"]))

    def runs_for_day(self, project: str, day: date) -> list[dict[str, Any]]:
        """Runs of the traces whose root started on `day` (UTC): the archive's unit.
        Shallow copies, ordered by (start_time, id)."""
        with self.lock:
            lo = datetime.combine(day, time())
            hi = lo + timedelta(days=1)
            keys = self.sorted_keys(project)
            roots = [
                self.runs[k[1]]
                for k in keys[bisect.bisect_left(keys, (lo, "")) : bisect.bisect_left(keys, (hi, ""))]
                if self.runs[k[1]].data["parent_run_id"] is None
            ]
            out = [dict(row.data) for root in roots for row in self.trace_rows(root.data["id"])]
            return sorted(out, key=lambda d: (d["start_time"], d["id"]))

    def feedback_for_run(self, run_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.run_feedback_records(str(run_id))]

    def trace_of(self, run_id: str) -> list[dict[str, Any]]:
        with self.lock:
            row = self.runs[str(run_id)]
            return [r.data for r in self.trace_rows(row.data["trace_id"])]

    # ---- mutating -------------------------------------------------------------------
    def _restat(self, run_id: str) -> None:
        row = self.runs.get(run_id)
        if row is not None:
            row.data["feedback_stats"] = feedback_stats(self.run_feedback_records(run_id))

    def edit_feedback(self, feedback_id: str, **changes: Any) -> dict[str, Any]:
        """Change `value`, `comment`, `score` or `correction`; `modified_at` moves to now."""
        allowed = {"value", "comment", "score", "correction"}
        if not set(changes) <= allowed:
            raise ValueError(f"can only edit {sorted(allowed)}, got {sorted(changes)}")
        with self.lock:
            old = self.feedback[str(feedback_id)]
            stamp = max(_now(), datetime.fromisoformat(old["modified_at"]) + timedelta(milliseconds=1))
            new = {**old, **changes, "modified_at": iso(stamp)}
            self.feedback[new["id"]] = new
            self._restat(new["run_id"])
            return dict(new)

    def add_feedback(
        self,
        run_id: str,
        key: str,
        *,
        value: Any = None,
        score: Any = None,
        comment: str | None = None,
        correction: Any = None,
    ) -> dict[str, Any]:
        """New feedback created now on an existing run."""
        with self.lock:
            row = self.runs[str(run_id)]
            rec = feedback_json(
                self._rng,
                row.data,
                key,
                created_at=_now(),
                score=score,
                value=value,
                comment=comment,
                correction=correction,
                source_type="api",
            )
            self.feedback[rec["id"]] = rec
            self._run_feedback.setdefault(rec["run_id"], []).append(rec["id"])
            self._restat(rec["run_id"])
            return dict(rec)

    def drop_runs(self, run_ids: Iterable[str]) -> None:
        """Forget runs and their feedback, as if upstream lost them."""
        with self.lock:
            for run_id in [str(r) for r in run_ids]:
                row = self.runs.pop(run_id, None)
                if row is None:
                    continue
                self._dirty.add(row.project)
                for fid in self._run_feedback.pop(run_id, []):
                    self.feedback.pop(fid, None)

    def expire_before(self, ts: datetime) -> int:
        """LangSmith retention: drop every trace whose root started before `ts`; returns runs dropped."""
        if ts.tzinfo is not None:
            ts = ts.astimezone(UTC).replace(tzinfo=None)
        with self.lock:
            doomed = [
                rid
                for trace_id, ids in self._trace_runs.items()
                if trace_id in self.runs and self.runs[trace_id].start < ts
                for rid in ids
            ]
            before = len(self.runs)
            self.drop_runs(doomed)
            return before - len(self.runs)
