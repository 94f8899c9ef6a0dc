"""The v1 runs query, `POST /runs/query` (what `Client.list_runs` sends): cursor paging,
at most 100 runs a page (the server rejects more).

The window goes in the body (`start_time`, `end_time`) as well as in the filter:
LangSmith rate-limits a v1 query by the window its body names, and one without a
`start_time` falls into the slowest tier (3 requests per 10 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lse.errors import ConfigError, LseError, UpstreamError
from lse.langsmith.run_query import RunApi, RunScope, iso_utc, status_of
from lse.langsmith.transport import LangSmithApi

V1_PATH = "/runs/query"
V1_PAGE_SIZE = 100
GONE_STATUSES = (404, 410)


class V1RunQuery:
    run_api = RunApi.V1

    def __init__(self, api: LangSmithApi, page_size: int = V1_PAGE_SIZE, *, fallback: bool = False):
        self.api = api
        self.page_size = page_size
        self.fallback = fallback  # chosen because the server has no v2 (auto mode)

    def pages(self, scope: RunScope) -> Iterator[list[dict[str, Any]]]:
        body: dict[str, Any] = {
            "session": [scope.project_id],
            "start_time": iso_utc(scope.min_start),
            "end_time": iso_utc(scope.max_start),
            "filter": scope.filter,
            "limit": self.page_size,
            "order": "asc",
        }
        while True:
            page = self._post(body)
            runs = page.get("runs") or []
            yield runs
            cursor = (page.get("cursors") or {}).get("next")
            if not cursor or not runs:
                return
            body = {**body, "cursor": cursor}

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            page = self.api.post_json(V1_PATH, body, endpoint="runs_query")
        except LseError as exc:
            status = status_of(exc)
            if status in GONE_STATUSES and self.fallback:
                raise ConfigError(
                    f"LangSmith at {self.api.settings.langsmith_endpoint} serves neither runs query "
                    f"(no POST /api/v2/runs/query, and {status} on POST {V1_PATH}): check LANGSMITH_ENDPOINT"
                ) from exc
            if status in GONE_STATUSES:
                raise ConfigError(
                    f"LangSmith no longer serves the v1 runs query ({status} on POST {V1_PATH}); "
                    "set LSE_LANGSMITH_RUN_API=auto (or v2) to use POST /api/v2/runs/query"
                ) from exc
            raise
        if not isinstance(page, dict):
            raise UpstreamError(f"POST {V1_PATH} answered {type(page).__name__}, not a page of runs")
        return page
