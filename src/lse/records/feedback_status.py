"""Why a stored run's `feedback_records` is what it is."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class FeedbackStatus(StrEnum):
    FETCHED = "fetched"  # records fetched with list_feedback; the list is complete
    NONE = "none"  # feedback_stats was empty: LangSmith reports no feedback; list is []
    NOT_FETCHED = "not_fetched"  # stats say there is feedback but fetching it failed; list is None
    UNKNOWN = "unknown"  # archived before feedback capture existed; list is None


_BY_VALUE = {s.value: s for s in FeedbackStatus}


def feedback_status_of(run: dict[str, Any]) -> FeedbackStatus:
    raw = run.get("feedback_fetch_status")
    if raw:
        # A dict look-up for the four spellings; the enum's own call (~10x dearer) for
        # anything else, so an unknown status raises as it always did.
        return (_BY_VALUE.get(raw) if type(raw) is str else None) or FeedbackStatus(raw)
    if isinstance(run.get("feedback_records"), list):
        return FeedbackStatus.FETCHED
    return FeedbackStatus.UNKNOWN


def is_known(status: FeedbackStatus) -> bool:
    return status in (FeedbackStatus.FETCHED, FeedbackStatus.NONE)
