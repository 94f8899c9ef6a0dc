"""Native feedback records for many runs: `GET /feedback` with up to 100 `run=` ids.

Runs are packed into batches of at most 100 ids whose expected record count (from
`feedback_stats`) stays under a page, so most batches cost one request; a batch that
holds more (one run can have hundreds) pages with offset until a short page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lse.langsmith.transport import LangSmithApi

MAX_RUN_IDS = 100
PAGE_SIZE = 100


@dataclass
class FeedbackBatch:
    run_ids: list[str]
    expected: int


def expected_records(feedback_stats: Any) -> int:
    """How many records `feedback_stats` says a run has (0 when it says nothing)."""
    if not isinstance(feedback_stats, dict):
        return 0
    total = 0
    for stats in feedback_stats.values():
        n = stats.get("n") if isinstance(stats, dict) else None
        total += int(n) if isinstance(n, (int, float, Decimal)) and not isinstance(n, bool) else 1
    return total


def plan_batches(runs: list[tuple[str, int]]) -> list[FeedbackBatch]:
    """Greedy packing of (run_id, expected) into batches that fit one page when possible."""
    batches: list[FeedbackBatch] = []
    current = FeedbackBatch([], 0)
    for run_id, listed in runs:
        expected = max(1, listed)
        fits = len(current.run_ids) < MAX_RUN_IDS and current.expected + expected < PAGE_SIZE
        if current.run_ids and not fits:
            batches.append(current)
            current = FeedbackBatch([], 0)
        current.run_ids.append(run_id)
        current.expected += expected
    if current.run_ids:
        batches.append(current)
    return batches


def fetch_batch(api: LangSmithApi, batch: FeedbackBatch, max_retries: int | None = None) -> Iterator[dict[str, Any]]:
    """The batch's records, page by page; `max_retries` lowers the retry budget (a probe)."""
    offset = 0
    while True:
        params: list[tuple[str, str | int]] = [("run", rid) for rid in batch.run_ids]
        params += [("limit", PAGE_SIZE), ("offset", offset)]
        page = api.get_json("/feedback", params, endpoint="feedback", max_retries=max_retries)
        if not isinstance(page, list):
            page = (page or {}).get("feedback", [])
        yield from page
        if len(page) < PAGE_SIZE:
            return
        offset += len(page)
