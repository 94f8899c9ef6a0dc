"""A stored run as `POST /api/v2/runs/query` returns it (the SDK's `types.run.Run`).

v2 names and shapes differ from v1's: `project_id` (not `session_id`), `parent_run_ids`
only (no `parent_run_id`), upper-case `status` and `run_type`, `latency_seconds`,
`is_in_dataset`, `is_root`, `metadata` beside `extra`, RFC 3339 times with `Z`, costs as
JSON numbers, token and cost details wrapped as `{"raw": {...}}`, feedback_stats in v2's
per-key shape, and no `trace_tier`, `ttl_seconds`, `child_run_ids`, `serialized`,
`s3_urls`, `share_token` … Only the selected fields are returned; `query_metadata` comes
with every item. Tokens and costs are the run's own unless `include_subtree_usage`,
which also gives `first_token_time` the earliest of the subtree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lse.sandbox.langsmith.records import COST_FIELDS, TOKEN_FIELDS
from lse.sandbox.langsmith.stats import feedback_stats_v2
from lse.sandbox.langsmith.wire import parse_ts
from lse.sandbox.langsmith.world import RunRow, World

# RunSelectField, in the order the API documents it.
SELECT_FIELDS: tuple[str, ...] = (
    "ID",
    "NAME",
    "RUN_TYPE",
    "STATUS",
    "START_TIME",
    "END_TIME",
    "LATENCY_SECONDS",
    "FIRST_TOKEN_TIME",
    "ERROR",
    "ERROR_PREVIEW",
    "EXTRA",
    "METADATA",
    "EVENTS",
    "INPUTS",
    "INPUTS_PREVIEW",
    "OUTPUTS",
    "OUTPUTS_PREVIEW",
    "MANIFEST",
    "PARENT_RUN_IDS",
    "PROJECT_ID",
    "TRACE_ID",
    "THREAD_ID",
    "DOTTED_ORDER",
    "IS_ROOT",
    "REFERENCE_EXAMPLE_ID",
    "REFERENCE_DATASET_ID",
    "TOTAL_TOKENS",
    "PROMPT_TOKENS",
    "COMPLETION_TOKENS",
    "TOTAL_COST",
    "PROMPT_COST",
    "COMPLETION_COST",
    "PROMPT_TOKEN_DETAILS",
    "COMPLETION_TOKEN_DETAILS",
    "PROMPT_COST_DETAILS",
    "COMPLETION_COST_DETAILS",
    "PRICE_MODEL_ID",
    "TAGS",
    "APP_PATH",
    "ATTACHMENTS",
    "THREAD_EVALUATION_TIME",
    "IS_IN_DATASET",
    "LAST_QUEUED_AT",
    "SHARE_URL",
    "FEEDBACK_STATS",
    "LS_USER_ID",
)
PREVIEW_CHARS = 200


def rfc3339(value: str | datetime | None) -> str | None:
    """A time as v2 writes it: RFC 3339 in UTC with `Z`."""
    if value is None:
        return None
    ts = parse_ts(value) if isinstance(value, str) else value
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds") + "Z"


def _number(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) else value


def _raw(value: Any, numbers: bool = False) -> Any:
    if value is None:
        return None
    return {"raw": {k: _number(v) for k, v in value.items()} if numbers else dict(value)}


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:PREVIEW_CHARS]


def _usage(row: RunRow, field: str, subtree: bool) -> Any:
    source = row.data if subtree or row.own_usage is None else row.own_usage
    value = source.get(field)
    return _number(value) if field in COST_FIELDS else value


def _events(events: Any) -> Any:
    if not isinstance(events, list):
        return events
    return [{**e, "time": rfc3339(e["time"])} if isinstance(e, dict) and e.get("time") else e for e in events]


Getter = Callable[[World, RunRow, bool], Any]


def _usage_getter(field: str) -> Getter:
    return lambda world, row, subtree: _usage(row, field, subtree)


_GETTERS: dict[str, Getter] = {
    "ID": lambda w, r, s: r.data["id"],
    "NAME": lambda w, r, s: r.data["name"],
    "RUN_TYPE": lambda w, r, s: r.data["run_type"].upper(),
    "STATUS": lambda w, r, s: (r.data.get("status") or "pending").upper(),
    "START_TIME": lambda w, r, s: rfc3339(r.start),
    "END_TIME": lambda w, r, s: rfc3339(r.end),
    "LATENCY_SECONDS": lambda w, r, s: (r.end - r.start).total_seconds() if r.end else None,
    "FIRST_TOKEN_TIME": lambda w, r, s: rfc3339(r.subtree_first_token if s else r.data.get("first_token_time")),
    "ERROR": lambda w, r, s: r.data.get("error"),
    "ERROR_PREVIEW": lambda w, r, s: _preview(r.data.get("error")),
    "EXTRA": lambda w, r, s: r.data.get("extra"),
    "METADATA": lambda w, r, s: (r.data.get("extra") or {}).get("metadata"),
    "EVENTS": lambda w, r, s: _events(r.data.get("events")),
    "INPUTS": lambda w, r, s: r.data.get("inputs"),
    "INPUTS_PREVIEW": lambda w, r, s: _preview(r.data.get("inputs")),
    "OUTPUTS": lambda w, r, s: r.data.get("outputs"),
    "OUTPUTS_PREVIEW": lambda w, r, s: _preview(r.data.get("outputs")),
    "MANIFEST": lambda w, r, s: r.data.get("manifest"),
    "PARENT_RUN_IDS": lambda w, r, s: list(r.data.get("parent_run_ids") or []),
    "PROJECT_ID": lambda w, r, s: r.data["session_id"],
    "TRACE_ID": lambda w, r, s: r.data["trace_id"],
    "THREAD_ID": lambda w, r, s: r.data.get("thread_id"),
    "DOTTED_ORDER": lambda w, r, s: r.data.get("dotted_order"),
    "IS_ROOT": lambda w, r, s: r.data.get("parent_run_id") is None,
    "REFERENCE_EXAMPLE_ID": lambda w, r, s: r.data.get("reference_example_id"),
    "REFERENCE_DATASET_ID": lambda w, r, s: r.data.get("reference_dataset_id"),
    **{f.upper(): _usage_getter(f) for f in (*TOKEN_FIELDS, *COST_FIELDS)},
    "PROMPT_TOKEN_DETAILS": lambda w, r, s: _raw(r.data.get("prompt_token_details")),
    "COMPLETION_TOKEN_DETAILS": lambda w, r, s: _raw(r.data.get("completion_token_details")),
    "PROMPT_COST_DETAILS": lambda w, r, s: _raw(r.data.get("prompt_cost_details"), numbers=True),
    "COMPLETION_COST_DETAILS": lambda w, r, s: _raw(r.data.get("completion_cost_details"), numbers=True),
    "PRICE_MODEL_ID": lambda w, r, s: r.data.get("price_model_id"),
    "TAGS": lambda w, r, s: r.data.get("tags"),
    "APP_PATH": lambda w, r, s: r.data.get("app_path"),
    "ATTACHMENTS": lambda w, r, s: None,  # no synthetic run has attachments
    "THREAD_EVALUATION_TIME": lambda w, r, s: None,
    "IS_IN_DATASET": lambda w, r, s: r.data.get("in_dataset"),
    "LAST_QUEUED_AT": lambda w, r, s: rfc3339(r.data.get("last_queued_at")),
    "SHARE_URL": lambda w, r, s: None,  # no synthetic run is shared
    "FEEDBACK_STATS": lambda w, r, s: feedback_stats_v2(w.run_feedback_records(r.data["id"])),
    "LS_USER_ID": lambda w, r, s: None,
}


def v2_item(world: World, row: RunRow, selects: list[str], subtree: bool) -> dict[str, Any]:
    """The run with exactly the selected fields (v2 field names) plus `query_metadata`."""
    item = {name.lower(): _GETTERS[name](world, row, subtree) for name in selects}
    item["query_metadata"] = None
    return item
