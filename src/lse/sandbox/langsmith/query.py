"""`POST /runs/query`: the v1 run query with LangSmith's body fields and cursor paging.

Pages are ordered by (start_time, id), descending unless `order` is "asc". The cursor is
the key of the last run sent, so pages stay stable even when runs vanish between calls.
A page is followed by a cursor only if at least one more run matches, so a full scan
never ends on an empty page.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from lse.sandbox.langsmith.filters import FilterError, compile_filter
from lse.sandbox.langsmith.records import COST_FIELDS
from lse.sandbox.langsmith.wire import iso, parse_ts
from lse.sandbox.langsmith.world import RunRow, SortKey, World

MAX_LIMIT = 100

# The select list langsmith's `list_runs` sends when the caller gives none: it means "the
# whole run", so the full run JSON is returned, as LangSmith's own full rows are.
SDK_DEFAULT_SELECT = frozenset(
    {
        "app_path",
        "completion_cost",
        "completion_tokens",
        "dotted_order",
        "end_time",
        "error",
        "events",
        "extra",
        "feedback_stats",
        "first_token_time",
        "id",
        "inputs",
        "name",
        "outputs",
        "parent_run_id",
        "parent_run_ids",
        "prompt_cost",
        "prompt_tokens",
        "reference_example_id",
        "run_type",
        "s3_urls",
        "session_id",
        "start_time",
        "status",
        "tags",
        "total_cost",
        "total_tokens",
        "trace_id",
    }
)
# Always sent, so an SDK `Run` can be built from any narrower selection.
CORE_FIELDS = frozenset({"id", "name", "run_type", "start_time", "trace_id", "dotted_order"})


class QueryError(ValueError):
    """A request the real API would reject with 400."""


def run_field(world: World, row: RunRow, field: str) -> Any:
    """The value of `field` on a run, as the filter language sees it."""
    data = row.data
    if field == "start_time":
        return row.start
    if field == "end_time":
        return row.end
    if field == "first_token_time":
        return parse_ts(data["first_token_time"]) if data.get("first_token_time") else None
    if field == "is_root":
        return data["parent_run_id"] is None
    if field == "latency":
        return (row.end - row.start).total_seconds() if row.end else None
    if field in COST_FIELDS:
        return Decimal(data[field]) if data.get(field) is not None else None
    if field == "feedback_key":
        return list((data.get("feedback_stats") or {}).keys())
    if field == "feedback_score":
        return [r["score"] for r in world.run_feedback_records(data["id"]) if r.get("score") is not None]
    return data.get(field)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v).lower() for v in items]


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")


def encode_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps([iso(key[0]), key[1]]).encode()).decode()


def decode_cursor(cursor: str) -> SortKey:
    try:
        start, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return (parse_ts(start), str(run_id))
    except (ValueError, TypeError) as exc:
        raise QueryError(f"invalid cursor {cursor!r}") from exc


def _candidates(world: World, body: dict[str, Any]) -> list[SortKey]:
    if body.get("id"):
        rows = [world.runs[i] for i in _as_list(body["id"]) if i in world.runs]
        return sorted(r.key for r in rows)
    if body.get("trace"):
        return sorted(r.key for r in world.trace_rows(str(body["trace"]).lower()))
    sessions = _as_list(body.get("session"))
    if sessions:
        projects = [p for p in (world.project_by_id(s) for s in sessions) if p is not None]
        lists = [world.sorted_keys(p["name"]) for p in projects]
        return lists[0] if len(lists) == 1 else sorted(k for keys in lists for k in keys)
    return sorted(r.key for r in world.runs.values())


def run_predicates(world: World, body: dict[str, Any]) -> list[Callable[[RunRow], bool]]:
    preds: list[Callable[[RunRow], bool]] = []
    sessions = set(_as_list(body.get("session")))
    if sessions:
        preds.append(lambda r: r.data["session_id"] in sessions)
    if body.get("id"):
        ids = set(_as_list(body["id"]))
        preds.append(lambda r: r.data["id"] in ids)
    if body.get("trace"):
        trace = str(body["trace"]).lower()
        preds.append(lambda r: r.data["trace_id"] == trace)
    if body.get("parent_run"):
        parent = str(body["parent_run"]).lower()
        preds.append(lambda r: r.data["parent_run_id"] == parent)
    if body.get("run_type"):
        run_type = str(body["run_type"])
        preds.append(lambda r: r.data["run_type"] == run_type)
    if body.get("is_root") is not None:
        want_root = _bool(body["is_root"])
        preds.append(lambda r: (r.data["parent_run_id"] is None) == want_root)
    if body.get("error") is not None:
        want_error = _bool(body["error"])
        preds.append(lambda r: (r.data["error"] is not None) == want_error)
    if body.get("end_time"):
        until = _time(body["end_time"], "end_time")
        preds.append(lambda r: r.start <= until)
    getter = lambda row, field: run_field(world, row, field)  # noqa: E731
    if body.get("filter"):
        own = compile_filter(str(body["filter"]), getter)
        preds.append(own)
    if body.get("trace_filter"):
        on_root = compile_filter(str(body["trace_filter"]), getter)
        preds.append(lambda r: (root := world.runs.get(r.data["trace_id"])) is not None and on_root(root))
    if body.get("tree_filter"):
        on_any = compile_filter(str(body["tree_filter"]), getter)
        preds.append(lambda r: any(on_any(other) for other in world.trace_rows(r.data["trace_id"])))
    return preds


def _time(value: Any, name: str) -> datetime:
    try:
        return parse_ts(str(value))
    except ValueError as exc:
        raise QueryError(f"{name} must be an ISO-8601 datetime, got {value!r}") from exc


def _select(data: dict[str, Any], select: Any) -> dict[str, Any]:
    if not select:
        return dict(data)
    fields = set(select)
    if fields >= SDK_DEFAULT_SELECT:
        return dict(data)
    fields |= CORE_FIELDS
    return {k: v for k, v in data.items() if k in fields}


def _walk(keys: list[SortKey], lo: int, after: SortKey | None, descending: bool) -> Iterator[SortKey]:
    if descending:
        hi = bisect.bisect_left(keys, after) if after else len(keys)
        for i in range(hi - 1, lo - 1, -1):
            yield keys[i]
    else:
        start = max(lo, bisect.bisect_right(keys, after)) if after else lo
        for i in range(start, len(keys)):
            yield keys[i]


def query_runs(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """One page of runs for a `/runs/query` body."""
    limit = body.get("limit") or MAX_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise QueryError(f"limit must be a positive integer, got {limit!r}")
    if limit > MAX_LIMIT:
        raise QueryError(f"limit must be less than or equal to {MAX_LIMIT}, got {limit}")
    order = body.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise QueryError(f"order must be 'asc' or 'desc', got {order!r}")
    after = decode_cursor(str(body["cursor"])) if body.get("cursor") else None
    with world.lock:
        keys = _candidates(world, body)
        lo = bisect.bisect_left(keys, (_time(body["start_time"], "start_time"), "")) if body.get("start_time") else 0
        try:
            preds = run_predicates(world, body)
            page: list[RunRow] = []
            more = False
            for key in _walk(keys, lo, after, order == "desc"):
                row = world.runs.get(key[1])
                if row is None or not all(p(row) for p in preds):
                    continue
                if len(page) == limit:
                    more = True
                    break
                page.append(row)
        except FilterError as exc:
            raise QueryError(f"invalid filter: {exc}") from exc
        runs = [_select(row.data, body.get("select")) for row in page]
    next_cursor = encode_cursor(page[-1].key) if more and page else None
    return {"runs": runs, "cursors": {"next": next_cursor, "prev": None}}
