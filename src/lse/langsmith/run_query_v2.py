"""The v2 runs query, `POST /api/v2/runs/query`, sent through the SDK's own request layer
(`LangSmithApi`: our pacer, retry policy and counters in front, lossless JSON behind).

Every query carries what v2 would otherwise default away:
- `project_ids` and an explicit `min_start_time`/`max_start_time` (an omitted minimum
  means "the last 24 hours", so an older day would come back empty);
- `selects` for every stored field (an omitted list returns only `ID`);
- `page_size` 1000 and the opaque `cursor` from `next_cursor` until it is null;
- `include_subtree_usage`, so a parent's tokens and costs are its subtree's totals, as
  v1 reported them (v2's default is the run's own usage).
v2 has no ordering option; nothing here relies on the order of items.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lse.errors import ConfigError, LseError, UpstreamError
from lse.langsmith.run_query import RunApi, RunScope, api_missing, iso_utc, status_of
from lse.langsmith.transport import LangSmithApi
from lse.langsmith.v2_runs import SELECTS, stored_from_v2

V2_PATH = "/api/v2/runs/query"
V2_PAGE_SIZE = 1000


class V2RunQuery:
    run_api = RunApi.V2

    def __init__(self, api: LangSmithApi, page_size: int = V2_PAGE_SIZE):
        self.api = api
        self.page_size = page_size

    def body(self, scope: RunScope) -> dict[str, Any]:
        return {
            "project_ids": [scope.project_id],
            "min_start_time": iso_utc(scope.min_start),
            "max_start_time": iso_utc(scope.max_start),
            "filter": scope.filter,
            "selects": list(SELECTS),
            "page_size": self.page_size,
            "include_subtree_usage": True,
        }

    def pages(self, scope: RunScope, *, probe: bool = False) -> Iterator[list[dict[str, Any]]]:
        """Stored-shape runs page by page. With `probe` (auto mode's first query) a
        missing v2 route is raised as it is, for the caller to fall back to v1."""
        body = self.body(scope)
        seen: set[str] = set()
        while True:
            page = self._post(body, probe)
            items = page.get("items")
            if not isinstance(items, list):
                raise UpstreamError(f"POST {V2_PATH} answered without an `items` list; is LANGSMITH_ENDPOINT right?")
            yield [stored_from_v2(item) for item in items]
            probe = False
            cursor = page.get("next_cursor")
            if not cursor:
                return
            if cursor in seen:
                raise UpstreamError(f"POST {V2_PATH} returned the same next_cursor twice; stopping to avoid a loop")
            seen.add(cursor)
            body = {**body, "cursor": cursor}

    def _post(self, body: dict[str, Any], probe: bool) -> dict[str, Any]:
        try:
            page = self.api.post_json(V2_PATH, body, endpoint="runs_query_v2")
        except LseError as exc:
            if api_missing(exc) and not probe:
                raise ConfigError(
                    f"LangSmith at {self.api.settings.langsmith_endpoint} has no v2 runs query "
                    f"(POST {V2_PATH}: {status_of(exc)}), as self-hosted servers before 0.16; "
                    "set LSE_LANGSMITH_RUN_API=auto (or v1)"
                ) from exc
            raise
        if not isinstance(page, dict):
            raise UpstreamError(f"POST {V2_PATH} answered {type(page).__name__}, not a page of runs")
        return page
