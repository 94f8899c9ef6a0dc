"""A v2 run (`POST /api/v2/runs/query` item) in the stored run's shape: the v1 shape.

Archives written before v2 hold runs as v1 returned them, and users' code reads those
fields. So a v2 item is mapped back, field by field (docs/v2-run-mapping.md has the
table): `project_id` → `session_id`, `parent_run_ids[-1]` → `parent_run_id`,
`is_in_dataset` → `in_dataset`, upper-case `status`/`run_type` → lower case, RFC 3339
times → v1's naive-UTC ISO strings, `{"raw": {...}}` details → the plain mapping, and
costs → v1's decimal strings, exactly the value the server sent (never rounded through
a float). Values derived from other fields (`latency_seconds`, `is_root`, `metadata`,
previews) are not selected; a field this module does not know is kept as it came.

Fields v1 had and v2 no longer serves (`V1_ONLY_FIELDS`) are simply absent from a v2
run; the merge rule keeps what an earlier v1 fetch archived for them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# What lse asks v2 for: every field that carries information, in the SDK's enum
# (langsmith.types.run_select_field.RunSelectField). Without `selects` v2 returns only ID.
SELECTS: tuple[str, ...] = (
    "ID",
    "NAME",
    "RUN_TYPE",
    "STATUS",
    "START_TIME",
    "END_TIME",
    "FIRST_TOKEN_TIME",
    "ERROR",
    "EXTRA",
    "EVENTS",
    "INPUTS",
    "OUTPUTS",
    "MANIFEST",
    "PARENT_RUN_IDS",
    "PROJECT_ID",
    "TRACE_ID",
    "THREAD_ID",
    "DOTTED_ORDER",
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
    "FEEDBACK_STATS",
    "LS_USER_ID",
)
# Not selected: derivable from selected fields, or a secret link (SHARE_URL).
NOT_SELECTED: tuple[str, ...] = (
    "LATENCY_SECONDS",
    "IS_ROOT",
    "METADATA",
    "ERROR_PREVIEW",
    "INPUTS_PREVIEW",
    "OUTPUTS_PREVIEW",
    "SHARE_URL",
)

# v1 run fields v2 no longer serves: absent from a v2 run, kept from earlier v1 fetches.
V1_ONLY_FIELDS = frozenset(
    {
        "serialized",
        "manifest_id",
        "manifest_s3_id",
        "child_run_ids",
        "direct_child_run_ids",
        "s3_urls",
        "inputs_s3_urls",
        "outputs_s3_urls",
        "share_token",
        "trace_tier",
        "ttl_seconds",
        "trace_min_start_time",
        "trace_max_start_time",
        "trace_first_received_at",
        "trace_upgrade",
        "execution_order",
    }
)
# v2 fields v1 never had: stored under their v2 names.
V2_ONLY_FIELDS = frozenset({"attachments", "thread_evaluation_time", "ls_user_id"})
# Values the two APIs compute differently for the same run (docs/v2-run-mapping.md).
API_SHAPED_FIELDS = frozenset({"feedback_stats", "first_token_time"})

_RENAMED = {"project_id": "session_id", "is_in_dataset": "in_dataset"}
_DERIVED = frozenset(
    {"latency_seconds", "is_root", "metadata", "error_preview", "inputs_preview", "outputs_preview", "query_metadata"}
)
_TIMES = frozenset({"start_time", "end_time", "first_token_time", "last_queued_at", "thread_evaluation_time"})
_COSTS = frozenset({"total_cost", "prompt_cost", "completion_cost"})
_DETAILS = frozenset(
    {"prompt_token_details", "completion_token_details", "prompt_cost_details", "completion_cost_details"}
)
_LOWER = frozenset({"status", "run_type"})
# The v1 field order, so a v2 run reads like a v1 run line by line.
_V1_ORDER = (
    "id",
    "name",
    "start_time",
    "run_type",
    "end_time",
    "extra",
    "error",
    "events",
    "inputs",
    "outputs",
    "reference_example_id",
    "parent_run_id",
    "tags",
    "session_id",
    "feedback_stats",
    "app_path",
    "manifest",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_token_details",
    "completion_token_details",
    "first_token_time",
    "total_cost",
    "prompt_cost",
    "completion_cost",
    "prompt_cost_details",
    "completion_cost_details",
    "parent_run_ids",
    "trace_id",
    "dotted_order",
    "in_dataset",
    "thread_id",
    "reference_dataset_id",
    "price_model_id",
    "last_queued_at",
)


def v1_time(value: Any) -> Any:
    """An RFC 3339 time as v1 writes it: naive UTC with microseconds; anything else as is."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.isoformat(timespec="microseconds")


def v1_cost(value: Any) -> Any:
    """A cost as v1 sends it: the decimal as a string, exactly the value the server sent.

    The JSON codec reads a number as a float only when the float's shortest spelling is
    that number, so `Decimal(repr(value))` is exact (trailing zeros are not kept: a
    number's value has none)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return str(Decimal(repr(value))) if math.isfinite(value) else value
    if isinstance(value, (Decimal, int)):
        return str(value)
    return value


def _details(name: str, value: Any) -> Any:
    raw = value.get("raw") if isinstance(value, dict) and set(value) == {"raw"} else value
    if name.endswith("_cost_details") and isinstance(raw, dict):
        return {k: v1_cost(v) for k, v in raw.items()}
    return raw


def _events(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [{**e, "time": v1_time(e["time"])} if isinstance(e, dict) and "time" in e else e for e in value]


def _convert(name: str, value: Any) -> Any:
    if name in _TIMES:
        return v1_time(value)
    if name in _COSTS:
        return v1_cost(value)
    if name in _DETAILS:
        return _details(name, value)
    if name in _LOWER and isinstance(value, str):
        return value.lower()
    if name == "events":
        return _events(value)
    return value


def stored_from_v2(item: dict[str, Any]) -> dict[str, Any]:
    """The stored (v1-shaped) run for one v2 item."""
    fields: dict[str, Any] = {}
    for name, value in item.items():
        if name in _DERIVED:
            continue
        fields[_RENAMED.get(name, name)] = _convert(name, value)
    if "parent_run_ids" in item:
        parents = item["parent_run_ids"] or []
        fields["parent_run_id"] = parents[-1] if parents else None
    ordered = {name: fields.pop(name) for name in _V1_ORDER if name in fields}
    ordered.update(fields)  # v2-only and unknown fields, in the order v2 sent them
    return ordered
