"""Pages of runs: the ONE module that knows which query API serves them.

The fetch plan asks for "all runs of project X matching filter F" and gets raw run
dicts page by page. Today that is the v1 `POST /runs/query` (cursor paging, at most
100 per page — the server rejects more). Switching to the v2 query API
(`POST /api/v2/runs/query`, pages up to 1,000), or falling back to v1 on servers
without it, is a change here only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from lse.langsmith.transport import LangSmithApi

V1_PAGE_SIZE = 100


class RunQuery(Protocol):
    def pages(self, project_id: str, filter_expr: str) -> Iterator[list[dict[str, Any]]]: ...


class V1RunQuery:
    """`POST /runs/query` with cursor paging (what `Client.list_runs` sends)."""

    def __init__(self, api: LangSmithApi, page_size: int = V1_PAGE_SIZE):
        self.api = api
        self.page_size = page_size

    def pages(self, project_id: str, filter_expr: str) -> Iterator[list[dict[str, Any]]]:
        body: dict[str, Any] = {
            "session": [project_id],
            "filter": filter_expr,
            "limit": self.page_size,
            "order": "asc",
        }
        while True:
            page = self.api.post_json("/runs/query", body, endpoint="runs_query")
            runs = page.get("runs") or []
            yield runs
            cursor = (page.get("cursors") or {}).get("next")
            if not cursor or not runs:
                return
            body = {**body, "cursor": cursor}


def default_run_query(api: LangSmithApi) -> RunQuery:
    return V1RunQuery(api)
