"""`GET /feedback`: LangSmith's feedback listing with offset paging.

Records are ordered by (created_at, id) so offset pages are stable; `run` and `key` may
repeat. The SDK pages until a short page, so a run with 250 records takes three calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lse.sandbox.langsmith.query import MAX_LIMIT, QueryError
from lse.sandbox.langsmith.world import World


def _bool(value: str) -> bool:
    return value.lower() in ("1", "true", "yes")


def _source(value: str) -> str:
    """requests sends SDK enums as "FeedbackSourceType.API"; accept that and "api"."""
    return value.rsplit(".", 1)[-1].lower()


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise QueryError(f"{name} must be an integer, got {raw!r}") from exc


def list_feedback(world: World, params: Mapping[str, str], multi: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """One page of feedback; `multi` holds the repeated parameters (run, key, session, source)."""
    limit = _int(params, "limit", MAX_LIMIT)
    offset = _int(params, "offset", 0)
    if limit < 1 or limit > MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise QueryError(f"offset must be >= 0, got {offset}")
    run_ids = [r.lower() for r in multi.get("run", [])]
    keys = set(multi.get("key", []))
    sessions = {s.lower() for s in multi.get("session", [])}
    sources = {_source(s) for s in multi.get("source", [])}
    has_comment = params.get("has_comment")
    has_score = params.get("has_score")
    level = params.get("level")
    with world.lock:
        if run_ids:
            records = [rec for rid in dict.fromkeys(run_ids) for rec in world.run_feedback_records(rid)]
        else:
            records = list(world.feedback.values())
        out = []
        for rec in records:
            if keys and rec["key"] not in keys:
                continue
            if sessions and (rec.get("session_id") or "") not in sessions:
                continue
            if sources and (rec.get("feedback_source") or {}).get("type") not in sources:
                continue
            if has_comment is not None and bool(rec.get("comment")) != _bool(has_comment):
                continue
            if has_score is not None and (rec.get("score") is not None) != _bool(has_score):
                continue
            if (level == "run" and rec.get("run_id") is None) or (level == "session" and rec.get("run_id") is not None):
                continue
            out.append(rec)
        out.sort(key=lambda r: (r["created_at"], r["id"]))
        return [dict(r) for r in out[offset : offset + limit]]
