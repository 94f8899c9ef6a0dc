"""Builders for native-shaped LangSmith JSON: one run, one feedback record.

The dicts are stored wire-ready for v1 (ids as strings, datetimes as naive-UTC ISO
strings, costs as decimal strings as v1's pydantic models write Decimals) so the v1
routes only filter, order and serialise them; generation computes costs as Decimals
and `World` turns them into strings when it stores a run (`v1_costs`). A run's own
usage (before its subtree's is rolled up into it) rides along under `OWN_USAGE` until
the world stores it beside the run, for v2's `include_subtree_usage=false`.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from lse.sandbox.langsmith.wire import iso

RUNTIME = {
    "sdk": "langsmith-py",
    "sdk_version": "0.4.1",
    "library": "langchain-core",
    "library_version": "0.3.21",
    "platform": "Linux-6.8.0-x86_64-with-glibc2.39",
    "runtime": "python",
    "py_implementation": "CPython",
    "runtime_version": "3.11.9",
    "langchain_version": "0.3.7",
    "langchain_core_version": "0.3.21",
}


def new_id(rng: random.Random) -> str:
    """A UUID4 drawn from `rng`, so the same seed gives the same ids in every process."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def dotted_segment(start: datetime, run_id: str) -> str:
    return f"{start.strftime('%Y%m%dT%H%M%S%f')}Z{run_id}"


def run_json(
    *,
    run_id: str,
    name: str,
    run_type: str,
    start: datetime,
    end: datetime | None,
    trace_id: str,
    parent: dict[str, Any] | None,
    session_id: str,
    tenant_id: str,
    inputs: dict[str, Any],
    outputs: dict[str, Any] | None,
    error: str | None = None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A run in the shape `POST /runs/query` returns it (token/cost fields filled later)."""
    segment = dotted_segment(start, run_id)
    dotted = f"{parent['dotted_order']}.{segment}" if parent else segment
    parent_ids = [*parent["parent_run_ids"], parent["id"]] if parent else []
    start_s = iso(start)
    events = [{"name": "start", "time": start_s}]
    if end is not None:
        events.append({"name": "end", "time": iso(end)})
    return {
        "id": run_id,
        "name": name,
        "start_time": start_s,
        "run_type": run_type,
        "end_time": iso(end) if end is not None else None,
        "extra": {"metadata": {"ls_run_depth": len(parent_ids), **(metadata or {})}, "runtime": dict(RUNTIME)},
        "error": error,
        "serialized": None,
        "events": events,
        "inputs": inputs,
        "outputs": outputs,
        "reference_example_id": None,
        "parent_run_id": parent["id"] if parent else None,
        "tags": tags or [],
        "session_id": session_id,
        "child_run_ids": None,
        "feedback_stats": {},
        "app_path": f"/o/{tenant_id}/projects/p/{session_id}/r/{run_id}?trace_id={trace_id}&start_time={start_s}",
        "manifest_id": None,
        "manifest_s3_id": None,
        "manifest": None,
        "status": "error" if error else ("success" if end is not None else "pending"),
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "prompt_token_details": None,
        "completion_token_details": None,
        "first_token_time": None,
        "total_cost": None,
        "prompt_cost": None,
        "completion_cost": None,
        "prompt_cost_details": None,
        "completion_cost_details": None,
        "parent_run_ids": parent_ids,
        "trace_id": trace_id,
        "dotted_order": dotted,
        "in_dataset": False,
        "thread_id": None,
        "share_token": None,
        "s3_urls": {},
        "trace_min_start_time": None,
        "trace_max_start_time": None,
        "ttl_seconds": 1209600,
        "trace_tier": "shortlived",
        "trace_first_received_at": None,
        "trace_upgrade": False,
        "reference_dataset_id": None,
        "price_model_id": None,
        "last_queued_at": None,
    }


def feedback_json(
    rng: random.Random,
    run: dict[str, Any],
    key: str,
    *,
    created_at: datetime,
    score: float | bool | None = None,
    value: Any = None,
    comment: str | None = None,
    correction: Any = None,
    source_type: str = "app",
    user: int = 1,
) -> dict[str, Any]:
    """A feedback record in the shape `GET /feedback` returns it."""
    source: dict[str, Any] = {"type": source_type, "metadata": {}, "user_id": None, "user_name": None}
    if source_type == "app":
        source["user_id"] = str(uuid.UUID(int=random.Random(f"user:{user}").getrandbits(128), version=4))
        source["user_name"] = f"reviewer-{user}"
    elif source_type == "model":
        source["metadata"] = {"__run": {"run_id": new_id(rng), "experiment_name": None}}
    stamp = iso(created_at)
    return {
        "id": new_id(rng),
        "created_at": stamp,
        "modified_at": stamp,
        "session_id": run["session_id"],
        "run_id": run["id"],
        "trace_id": run["trace_id"],
        "start_time": run["start_time"],
        "key": key,
        "score": score,
        "value": value,
        "comment": comment,
        "correction": correction,
        "feedback_group_id": None,
        "comparative_experiment_id": None,
        "feedback_source": source,
        "extra": None,
        "feedback_thread_id": None,
    }


OWN_USAGE = "_own_usage"
TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")
COST_FIELDS = ("prompt_cost", "completion_cost", "total_cost")
COST_DETAIL_FIELDS = ("prompt_cost_details", "completion_cost_details")
PROMPT_PRICE = Decimal("0.000002500137")
COMPLETION_PRICE = Decimal("0.000010000411")


def set_llm_usage(run: dict[str, Any], prompt_tokens: int, completion_tokens: int, first_token: datetime) -> None:
    """Token counts and exact decimal costs of an LLM run."""
    prompt_cost = PROMPT_PRICE * prompt_tokens
    completion_cost = COMPLETION_PRICE * completion_tokens
    cached = prompt_tokens // 4
    run.update(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        prompt_token_details={"cache_read": cached, "audio": 0},
        completion_token_details={"reasoning": 0, "audio": 0},
        prompt_cost=prompt_cost,
        completion_cost=completion_cost,
        total_cost=prompt_cost + completion_cost,
        prompt_cost_details={"cache_read": PROMPT_PRICE * cached / 2},
        completion_cost_details={},
        first_token_time=iso(first_token),
    )


def roll_up_usage(runs: list[dict[str, Any]]) -> None:
    """Give every parent the token and cost totals of its subtree, as LangSmith does.

    `runs` is in creation order (parents before children), so one reverse pass suffices.
    """
    by_id = {r["id"]: r for r in runs}
    for run in runs:
        run[OWN_USAGE] = {f: run[f] for f in (*TOKEN_FIELDS, *COST_FIELDS)}
    for run in reversed(runs):
        parent_id = run["parent_run_id"]
        if parent_id is None:
            continue
        parent = by_id[parent_id]
        for field in ("prompt_tokens", "completion_tokens", "total_tokens"):
            parent[field] += run[field]
        for field in ("prompt_cost", "completion_cost", "total_cost"):
            if run[field] is not None:
                parent[field] = (parent[field] or Decimal(0)) + run[field]
    trace_starts = [r["start_time"] for r in runs]
    lo, hi = min(trace_starts), max(trace_starts)
    for run in runs:
        run["trace_min_start_time"], run["trace_max_start_time"] = lo, hi
        run["trace_first_received_at"] = lo


def v1_costs(values: dict[str, Any]) -> None:
    """Costs (and cost details) as v1 sends them: Decimal strings, every digit kept."""
    for field in COST_FIELDS:
        if isinstance(values.get(field), Decimal):
            values[field] = str(values[field])
    for field in COST_DETAIL_FIELDS:
        details = values.get(field)
        if isinstance(details, dict):
            values[field] = {k: str(v) if isinstance(v, Decimal) else v for k, v in details.items()}
