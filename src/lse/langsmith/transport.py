"""`LangSmithApi`: one long-lived SDK client behind our pacer, retry policy and counters.

Each attempt is one call of the SDK's public `request_with_retries` with a single
attempt and `to_ignore=[LangSmithError]`, so the raw response (status, headers, body)
comes back to us: the retry decision is ours (retry_policy), the wait honours
Retry-After, and the JSON is parsed losslessly (lse.records.jsonl.loads). Failures leave this
module as lse errors with a message that says what to do (and the HTTP status, when there
was one, in `details["status"]`). A `Deprecation` or `Sunset` header on any response is
counted per endpoint, so the job can record it and monitoring can warn.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

import requests

import langsmith
from langsmith import utils as ls_utils
from lse.errors import AuthError, LseError, NotFoundError, RateLimited, UpstreamError, UpstreamRejected
from lse.langsmith.client_factory import make_client
from lse.langsmith.counters import RequestCounters
from lse.langsmith.pacing import Pacer
from lse.langsmith.retry_policy import (
    Outcome,
    RetryDecision,
    backoff_s,
    classify_exception,
    classify_status,
)
from lse.records.jsonl import loads
from lse.settings import Settings

log = logging.getLogger(__name__)


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
        import json

        return self._call(
            "POST", path, endpoint, max_retries, data=json.dumps(body), headers={"Content-Type": "application/json"}
        )

    def close(self) -> None:
        try:
            self.client.session.close()
        except Exception as exc:  # noqa: BLE001 -- closing is best effort; logged, not raised
            log.debug("closing LangSmith session failed: %s", exc)

    # -- one request, retried -----------------------------------------------------------
    def _call(self, method: str, path: str, endpoint: str, max_retries: int | None, **kwargs: Any) -> Any:
        budget = self.max_retries if max_retries is None else min(max_retries, self.max_retries)
        attempt = 0
        while True:
            attempt += 1
            self.pacer.wait()
            self.counters.request(endpoint)
            response, failure = self._attempt(method, path, kwargs)
            if response is not None:
                self._note_deprecation(method, path, response)
                decision = classify_status(response.status_code, dict(response.headers))
                if decision.outcome is Outcome.OK:
                    try:
                        return loads(response.text)
                    except ValueError:  # a proxy's HTML page or a truncated body: try again
                        decision = RetryDecision(Outcome.TRANSIENT)
                        failure = UpstreamError(f"LangSmith answered {method} {path} with a body that is not JSON")
            else:
                decision = classify_exception(failure)  # type: ignore[arg-type]
            if decision.outcome is Outcome.RATE_LIMITED:
                self.counters.rate_limit()
            else:
                self.counters.error()
            if not decision.retryable or attempt > budget:
                raise self._final_error(method, path, response, failure, decision, attempt)
            wait = self._wait_for(decision, attempt)
            if decision.outcome is Outcome.RATE_LIMITED:
                self.pacer.hold(wait)
            log.info("%s %s: %s, retrying in %.2fs", method, path, decision.outcome, wait)
            self.counters.retry()
            time.sleep(wait)

    def _attempt(
        self, method: str, path: str, kwargs: dict[str, Any]
    ) -> tuple[requests.Response | None, BaseException | None]:
        try:
            response = self.client.request_with_retries(
                method,  # type: ignore[arg-type]
                path,
                request_kwargs=kwargs,
                stop_after_attempt=1,
                to_ignore=[ls_utils.LangSmithError],
            )
            return response, None
        except (ls_utils.LangSmithError, requests.exceptions.RequestException, OSError) as exc:
            return None, exc

    def _note_deprecation(self, method: str, path: str, response: requests.Response) -> None:
        deprecation, sunset = response.headers.get("Deprecation"), response.headers.get("Sunset")
        if deprecation is not None or sunset is not None:
            self.counters.deprecated(f"{method} {path}", deprecation, sunset)

    def _wait_for(self, decision: RetryDecision, attempt: int) -> float:
        if decision.retry_after_s is not None:
            return min(self.max_wait_s, decision.retry_after_s)
        return backoff_s(attempt, self.base_wait_s, self.max_wait_s, random.random() * 0.5)

    def _final_error(
        self,
        method: str,
        path: str,
        response: requests.Response | None,
        failure: BaseException | None,
        decision: RetryDecision,
        attempts: int,
    ) -> LseError:
        error = self._error_for(method, path, response, failure, decision, attempts)
        if response is not None:
            error.details = {"status": response.status_code}
        return error

    def _error_for(
        self,
        method: str,
        path: str,
        response: requests.Response | None,
        failure: BaseException | None,
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
        if status == 401:
            return AuthError(f"LangSmith rejected the API key ({where}: 401); check LANGSMITH_API_KEY")
        if status == 403:
            return UpstreamRejected(f"LangSmith forbids {where} (403{detail}); check the key's permissions")
        if status == 404:
            return NotFoundError(f"LangSmith has no {path} (404{detail})")
        if decision.outcome is Outcome.RATE_LIMITED:
            return RateLimited(f"LangSmith kept rate-limiting {where} after {attempts} attempts; raise --delay-ms")
        if decision.outcome is Outcome.TRANSIENT:
            return UpstreamError(f"LangSmith failed {where} {attempts} times (last {status}{detail})")
        return UpstreamRejected(f"LangSmith rejected {where} ({status}{detail})")


def _detail(response: requests.Response) -> str:
    text = (response.text or "").strip().replace("\n", " ")
    if not text or text.lstrip().startswith("<"):
        return ""
    return ": " + text[:200]
