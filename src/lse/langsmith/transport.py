"""`LangSmithApi`: one long-lived SDK client behind our pacer, the one retry policy and counters.

Each attempt is one call of the SDK's public `request_with_retries` with a single
attempt and `to_ignore=[LangSmithError]`, so the raw response (status, headers, body)
comes back to us; an answer that failed is raised as an exception (`HTTPError` with the
response, or `UpstreamError` for a body that is not JSON) for LangSmith's rules table
(`retry_rules`) to judge, and the tenacity policy of `lse.retry` alone decides what is
retried and how long to wait (Retry-After, else backoff). The JSON is parsed losslessly
(lse.records.jsonl.loads). The pacer and counters hook into the policy: every attempt
waits its pacer slot and is counted, every failure is counted as a 429 or an error, and
a rate-limited wait also holds the pacer for every thread. Failures leave this module as
lse errors with a message that says what to do (and the HTTP status, when there was one,
in `details["status"]`). A `Deprecation` or `Sunset` header on any response is counted
per endpoint, so the job can record it and monitoring can warn.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import requests
import tenacity

import langsmith
from langsmith import utils as ls_utils
from lse.errors import AuthError, LseError, NotFoundError, RateLimited, UpstreamError, UpstreamRejected
from lse.langsmith.client_factory import make_client
from lse.langsmith.counters import RequestCounters
from lse.langsmith.pacing import Pacer
from lse.langsmith.retry_rules import NOT_JSON, classify
from lse.records.jsonl import loads
from lse.retry import RetryDecision, RetryKind, retrying
from lse.settings import Settings

log = logging.getLogger(__name__)

Method = Literal["GET", "POST"]  # what we ask LangSmith for; the SDK's `request_with_retries` takes a Literal

# what one attempt may fail with: judged by the rules, retried or translated; anything
# else is a bug and leaves untouched
_FAILURES = (ls_utils.LangSmithError, requests.exceptions.RequestException, OSError, UpstreamError)


class LangSmithApi:
    def __init__(self, settings: Settings, client: langsmith.Client | None = None):
        self.settings = settings
        self.client = client or make_client(settings)
        self.pacer = Pacer(settings.request_delay_ms / 1000.0)
        self.counters = RequestCounters()
        self.max_retries = settings.max_retries
        self.base_wait_s = settings.retry_base_wait_s
        self.max_wait_s = settings.retry_max_wait_s
        self.run_api: str | None = None  # the runs query API this client settled on (run_query.py)

    # -- public -------------------------------------------------------------------------
    def get_json(self, path: str, params: Any, *, endpoint: str, max_retries: int | None = None) -> Any:
        """GET `path`; `max_retries` lowers the retry budget for this call (a probe)."""
        return self._call("GET", path, endpoint, max_retries, params=params)

    def post_json(self, path: str, body: dict[str, Any], *, endpoint: str, max_retries: int | None = None) -> Any:
        return self._call(
            "POST", path, endpoint, max_retries, data=json.dumps(body), headers={"Content-Type": "application/json"}
        )

    def close(self) -> None:
        try:
            self.client.session.close()
        except Exception as exc:  # noqa: BLE001 -- closing is best effort; logged, not raised
            log.debug("closing LangSmith session failed: %s", exc)

    # -- one request, retried -----------------------------------------------------------
    def _call(self, method: Method, path: str, endpoint: str, max_retries: int | None, **kwargs: Any) -> Any:
        budget = self.max_retries if max_retries is None else min(max_retries, self.max_retries)
        attempts = 0

        def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            self.pacer.wait()
            self.counters.request(endpoint)
            try:
                return self._attempt(method, path, kwargs)
            except _FAILURES as exc:
                if classify(exc).kind is RetryKind.RATE_LIMITED:
                    self.counters.rate_limit()
                else:
                    self.counters.error()
                raise

        def before_sleep(state: tenacity.RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            kind = classify(failure).kind if failure is not None else None
            if kind is RetryKind.RATE_LIMITED:
                self.pacer.hold(state.upcoming_sleep)  # a 429 asks every thread to wait, not only this one
            log.info("%s %s: %s, retrying in %.2fs", method, path, kind, state.upcoming_sleep)
            self.counters.retry()

        policy = retrying(
            classify,
            max_attempts=budget + 1,
            max_wait_s=self.max_wait_s,
            initial_wait_s=self.base_wait_s,
            before_sleep=before_sleep,
        )
        try:
            return policy(attempt)
        except _FAILURES as exc:
            raise self._final_error(method, path, exc, classify(exc), attempts) from exc

    def _attempt(self, method: Method, path: str, kwargs: dict[str, Any]) -> Any:
        """One request: the parsed JSON, or the failure raised for the rules to judge."""
        response = self.client.request_with_retries(
            method,
            path,
            request_kwargs=kwargs,
            stop_after_attempt=1,
            to_ignore=[ls_utils.LangSmithError],
        )
        self._note_deprecation(method, path, response)
        if not response.ok:
            raise requests.HTTPError(f"{method} {path}: HTTP {response.status_code}", response=response)
        try:
            return loads(response.text)
        except ValueError as exc:  # a proxy's HTML page or a truncated body: try again
            message = f"LangSmith answered {method} {path} with a body that is not JSON"
            raise UpstreamError(message, code=NOT_JSON) from exc

    def _note_deprecation(self, method: str, path: str, response: requests.Response) -> None:
        deprecation, sunset = response.headers.get("Deprecation"), response.headers.get("Sunset")
        if deprecation is not None or sunset is not None:
            self.counters.deprecated(f"{method} {path}", deprecation, sunset)

    def _final_error(
        self, method: str, path: str, failure: BaseException, decision: RetryDecision, attempts: int
    ) -> LseError:
        response = failure.response if isinstance(failure, requests.HTTPError) else None
        error = self._error_for(method, path, response, failure, decision, attempts)
        if response is not None:
            error.details = {"status": response.status_code}
        return error

    def _error_for(
        self,
        method: str,
        path: str,
        response: requests.Response | None,
        failure: BaseException,
        decision: RetryDecision,
        attempts: int,
    ) -> LseError:
        where = f"{method} {path}"
        if isinstance(failure, UpstreamError):  # answered, but not with JSON
            return UpstreamError(f"{failure} ({attempts} attempts); is LANGSMITH_ENDPOINT the API's URL?")
        if response is None:
            return UpstreamError(
                f"LangSmith unreachable at {self.settings.langsmith_endpoint} ({where} failed "
                f"{attempts} times: {type(failure).__name__}); check LANGSMITH_ENDPOINT and the network"
            )
        status = response.status_code
        detail = _detail(response)
        if decision.stops_run:
            return AuthError(f"LangSmith rejected the API key ({where}: {status}); check LANGSMITH_API_KEY")
        if status == 403:
            return UpstreamRejected(f"LangSmith forbids {where} (403{detail}); check the key's permissions")
        if status == 404:
            return NotFoundError(f"LangSmith has no {path} (404{detail})")
        if decision.kind is RetryKind.RATE_LIMITED:
            return RateLimited(f"LangSmith kept rate-limiting {where} after {attempts} attempts; raise --delay-ms")
        if decision.kind is RetryKind.TRANSIENT:
            return UpstreamError(f"LangSmith failed {where} {attempts} times (last {status}{detail})")
        return UpstreamRejected(f"LangSmith rejected {where} ({status}{detail})")


def _detail(response: requests.Response) -> str:
    text = (response.text or "").strip().replace("\n", " ")
    if not text or text.lstrip().startswith("<"):
        return ""
    return ": " + text[:200]
