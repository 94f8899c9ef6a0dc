"""`feedback_stats` the way LangSmith computes it for a run.

Per feedback key: `n` records, `avg`/`stdev` over numeric scores (null when none),
`errors`, `values` tallying only string values (dict or number values leave it `{}`),
the non-empty `comments`, and `sources` as JSON strings of each record's source.
Recomputed whenever a run's feedback changes, so a re-fetch sees edits.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any


def _numeric(score: Any) -> float | None:
    if isinstance(score, bool):
        return 1.0 if score else 0.0
    if isinstance(score, (int, float)):
        return float(score)
    return None


def feedback_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Stats for one run's feedback records; `{}` when it has none."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_key.setdefault(rec["key"], []).append(rec)
    stats: dict[str, Any] = {}
    for key in sorted(by_key):
        recs = by_key[key]
        scores = [s for s in (_numeric(r.get("score")) for r in recs) if s is not None]
        avg = sum(scores) / len(scores) if scores else None
        stdev = math.sqrt(sum((s - avg) ** 2 for s in scores) / len(scores)) if scores and avg is not None else None
        values = Counter(r["value"] for r in recs if isinstance(r.get("value"), str))
        stats[key] = {
            "n": len(recs),
            "avg": avg,
            "stdev": stdev,
            "errors": 0,
            "show_feedback_arrow": False,
            "values": dict(values),
            "comments": [r["comment"] for r in recs if r.get("comment")],
            "sources": [json.dumps(r.get("feedback_source"), sort_keys=True) for r in recs],
        }
    return stats


def feedback_stats_v2(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Stats in v2's shape (the SDK's `types.run.FeedbackStats`); None when there are none.

    Per key: `n`, `avg`/`min`/`max` over numeric scores, the SAMPLE `stdev` (null below
    two scores), `errors`, `values` (string labels only), a sample of `comments`,
    `sources` as plain source types, and `contains_thread_feedback`.
    """
    if not records:
        return None
    by_key: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_key.setdefault(rec["key"], []).append(rec)
    stats: dict[str, Any] = {}
    for key in sorted(by_key):
        recs = by_key[key]
        scores = [s for s in (_numeric(r.get("score")) for r in recs) if s is not None]
        avg = sum(scores) / len(scores) if scores else None
        stdev = None
        if len(scores) > 1 and avg is not None:
            stdev = math.sqrt(sum((s - avg) ** 2 for s in scores) / (len(scores) - 1))
        stats[key] = {
            "n": len(recs),
            "avg": avg,
            "min": min(scores) if scores else None,
            "max": max(scores) if scores else None,
            "stdev": stdev,
            "errors": 0,
            "values": dict(Counter(r["value"] for r in recs if isinstance(r.get("value"), str))),
            "comments": [r["comment"] for r in recs if r.get("comment")],
            "sources": sorted({(r.get("feedback_source") or {}).get("type") or "api" for r in recs}),
            "contains_thread_feedback": False,
        }
    return stats
