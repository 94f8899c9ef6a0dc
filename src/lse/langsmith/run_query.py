"""Pages of runs: the one module that knows which query API serves them.

The fetch plan asks for "all runs of project X that started in [min, max) and match
filter F" (a `RunScope`) and gets stored-shape run dicts page by page; it never learns
which API answered. Two serve it:

- v2, `POST /api/v2/runs/query` (run_query_v2.py): pages of up to 1,000, mapped to the
  stored shape by v2_runs.py. LangSmith removes v1 after 2027-01-31.
- v1, `POST /runs/query` (run_query_v1.py): pages of 100; servers without v2
  (self-hosted before 0.16).

`LSE_LANGSMITH_RUN_API` picks one: `v2`, `v1`, or `auto` (the default): the first query
goes to v2; a 404/405 there means the server has no v2, and v1 serves every later query
of the process. The choice is made once per `LangSmithApi` (one per command) and never
per page, so one day is never scanned half with one API and half with the other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from lse.errors import ConfigError, LseError
from lse.langsmith.transport import LangSmithApi

log = logging.getLogger(__name__)

RunApiSetting = Literal["auto", "v2", "v1"]
MISSING_STATUSES = (404, 405)  # what a server answers for a route it does not have


class RunApi(StrEnum):
    V2 = "v2"
    V1 = "v1"


@dataclass(frozen=True)
class RunScope:
    """Runs of one project whose start_time is in [min_start, max_start) and match `filter`.

    Both bounds are always sent: v2 silently narrows an omitted `min_start_time` to the
    last 24 hours, and v1 rate-limits a query without a start time in its slowest tier.
    The filter carries the exact (half-open) bounds; the body bounds only narrow the scan.
    """

    project_id: str
    min_start: datetime
    max_start: datetime
    filter: str


def iso_utc(value: datetime) -> str:
    """A bound as both APIs take it: RFC 3339 UTC with microseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RunQuery(Protocol):
    @property
    def run_api(self) -> RunApi | None: ...

    def pages(self, scope: RunScope) -> Iterator[list[dict[str, Any]]]: ...


def status_of(exc: LseError) -> int | None:
    """The HTTP status a transport error carries (None: no response)."""
    status = exc.details.get("status") if isinstance(exc.details, dict) else None
    return status if isinstance(status, int) else None


def api_missing(exc: LseError) -> bool:
    """The error says the server has no such route (not that the request was wrong)."""
    return status_of(exc) in MISSING_STATUSES


class AutoRunQuery:
    """v2 where the server has it, else v1; decided by the first query and kept on `api`."""

    def __init__(self, api: LangSmithApi):
        from lse.langsmith.run_query_v1 import V1RunQuery
        from lse.langsmith.run_query_v2 import V2RunQuery

        self.api = api
        self._v2 = V2RunQuery(api)
        self._v1 = V1RunQuery(api, fallback=True)

    @property
    def run_api(self) -> RunApi | None:
        chosen = self.api.run_api
        return RunApi(chosen) if chosen else None

    def pages(self, scope: RunScope) -> Iterator[list[dict[str, Any]]]:
        if self.run_api is RunApi.V1:
            yield from self._v1.pages(scope)
            return
        if self.run_api is RunApi.V2:
            yield from self._v2.pages(scope)
            return
        pages = self._v2.pages(scope, probe=True)
        try:
            first = next(pages)
        except StopIteration:
            self.api.run_api = RunApi.V2.value
            return
        except LseError as exc:
            if not api_missing(exc):
                raise
            log.info("the LangSmith server has no v2 runs query (%s); using v1", exc)
            self.api.run_api = RunApi.V1.value
            yield from self._v1.pages(scope)
            return
        self.api.run_api = RunApi.V2.value
        yield first
        yield from pages


def make_run_query(api: LangSmithApi, setting: RunApiSetting | str = "auto") -> RunQuery:
    """The run query `setting` asks for (`LSE_LANGSMITH_RUN_API`)."""
    from lse.langsmith.run_query_v1 import V1RunQuery
    from lse.langsmith.run_query_v2 import V2RunQuery

    if setting == "v2":
        api.run_api = RunApi.V2.value
        return V2RunQuery(api)
    if setting == "v1":
        api.run_api = RunApi.V1.value
        return V1RunQuery(api)
    if setting == "auto":
        return AutoRunQuery(api)
    raise ConfigError(f"LSE_LANGSMITH_RUN_API must be auto, v2 or v1, got {setting!r}")
