"""The merge rule, one pure function for files and database alike (docs/merge-rule.md).

- Runs are upserted by id; the newer fetch supplies the run's own fields, and a field
  it does not carry at all keeps its stored value (an API that stopped serving a field,
  such as v2 without `trace_tier`, never erases it; an explicit null does replace it).
- Feedback records are unioned by id; for one id the record with the newer
  `modified_at` (else `created_at`) wins; a tie takes the incoming one (the later
  fetch; for the database, the archive file it is loaded from), so reloading the
  files repairs a record changed behind lse's back.
- A fetch whose feedback is unknown (`not_fetched`/`unknown`) never erases stored
  records; a known list that lacks a stored record keeps the stored record too
  (LangSmith deleting feedback is indistinguishable from a partial page, and the
  archive exists to survive upstream loss).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lse.records.feedback_status import FeedbackStatus, feedback_status_of, is_known
from lse.records.timestamps import parse_utc

_NEVER = datetime.min.replace(tzinfo=UTC)


def _stamp(record: dict[str, Any]) -> datetime:
    """The instant of a record's last change: `modified_at`, else `created_at`, each as
    read by `parse_utc`, so ISO spellings of one instant (Z, +00:00, naive UTC) are a
    tie, and an unreadable `modified_at` falls back to `created_at` — exactly what the
    database's feedback upsert compares (`coalesce(modified_at, created_at)`)."""
    return parse_utc(record.get("modified_at")) or parse_utc(record.get("created_at")) or _NEVER


def merge_feedback(
    stored: list[dict[str, Any]] | None, incoming: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    """Union by id, newer `modified_at` wins (a tie: incoming); None means unknown and never erases."""
    if incoming is None:
        return None if stored is None else _dedupe(stored, [])
    return _dedupe(stored or [], incoming)


def _dedupe(stored: list[dict[str, Any]], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for rec in [*stored, *incoming]:
        rid = str(rec.get("id"))
        old = by_id.get(rid)
        if old is None:
            order.append(rid)
            by_id[rid] = rec
        elif _stamp(rec) >= _stamp(old):  # ties: the later one
            by_id[rid] = rec
    merged = [by_id[i] for i in order]
    merged.sort(key=lambda r: (str(r.get("created_at") or ""), str(r.get("id"))))
    return merged


def merge_run(stored: dict[str, Any] | None, incoming: dict[str, Any]) -> dict[str, Any]:
    """The run to keep when `incoming` (a new fetch) meets `stored` (what we have)."""
    if stored is None:
        return incoming
    s_status, i_status = feedback_status_of(stored), feedback_status_of(incoming)
    merged = {**stored, **incoming}
    records = merge_feedback(stored.get("feedback_records"), incoming.get("feedback_records"))
    merged["feedback_records"] = records
    if is_known(i_status):
        status = i_status
        if records:  # stored records survive even when the new fetch saw none
            status = FeedbackStatus.FETCHED
    elif is_known(s_status):
        status = s_status
    else:
        status = i_status if i_status == FeedbackStatus.NOT_FETCHED else s_status
    merged["feedback_fetch_status"] = status.value
    if status == FeedbackStatus.NOT_FETCHED:
        merged["feedback_fetch_error"] = incoming.get("feedback_fetch_error") or stored.get("feedback_fetch_error")
    else:
        merged.pop("feedback_fetch_error", None)
    if merged.get("feedback_records") is None and status in (FeedbackStatus.FETCHED, FeedbackStatus.NONE):
        merged["feedback_records"] = []
    return merged
