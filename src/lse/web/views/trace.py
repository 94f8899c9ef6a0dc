"""A trace's runs as a tree, flattened depth-first for a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lse.store.archive_views import RunView


@dataclass(frozen=True)
class TraceNode:
    run: RunView
    depth: int
    current: bool

    @property
    def latency_s(self) -> float | None:
        start, end = self.run.data.get("start_time"), self.run.data.get("end_time")
        try:
            return (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds()
        except (TypeError, ValueError):
            return None


def trace_tree(runs: list[RunView], current_id: str) -> list[TraceNode]:
    """Depth-first, children in the order given (start order); a run whose parent is not
    in the list (cut off, or archived elsewhere) is shown as a root rather than lost."""
    ids = {r.run_id for r in runs}
    children: dict[str | None, list[RunView]] = {}
    for r in runs:
        parent = r.parent_run_id if r.parent_run_id in ids else None
        children.setdefault(parent, []).append(r)
    out: list[TraceNode] = []
    stack = [(r, 0) for r in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        run, depth = stack.pop()
        if run.run_id in seen:  # a cycle in bad data must not loop forever
            continue
        seen.add(run.run_id)
        out.append(TraceNode(run=run, depth=depth, current=run.run_id == current_id))
        stack.extend((c, depth + 1) for c in reversed(children.get(run.run_id, [])))
    return out
