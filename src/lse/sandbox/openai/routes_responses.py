"""POST /v1/responses: auth, validation, faults, then a deterministic answer.

Order of checks, each a distinct wire behaviour a client must handle:
auth (401) -> body and validation, including the bad-request marker (400) -> insufficient
quota (429) -> forced rate limit (429) -> request and token buckets (429) -> concurrency cap (429) ->
[in flight] -> latency -> hang or server error (500/503) -> answer.
Server-error and hang faults are decided at arrival (so "the next N" means the next N to
arrive) but delivered after the latency, as a slow failing backend would.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .errors import SandboxAPIError, bad_request, insufficient_quota, retry_after_headers, server_error
from .model import estimate_tokens
from .request_io import read_json_object, require_auth
from .response_body import build_response
from .response_params import parse_response_params
from .state import SandboxState

router = APIRouter()

CONCURRENCY_RETRY_MS = 100
HANG_POLL_S = 0.05


def _check_marker(state: SandboxState, texts: list[str | None]) -> None:
    marker = state.faults.bad_request_marker
    if marker and any(marker in (t or "") for t in texts):
        raise bad_request(
            f"Invalid input: the sandbox rejects any input containing {marker!r}.",
            param="input",
            code="invalid_value",
        )


async def _hang(request: Request, state: SandboxState, seconds: float) -> None:
    """Sleep up to `seconds`, ending early once the client has given up (disconnected), so a
    timed-out call stops counting as in flight, as it would at the real service."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await state.sleeper.sleep(min(HANG_POLL_S, left)) or await request.is_disconnected():
            return


@router.post("/v1/responses")
async def create_response(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    limits = state.limits["responses"]
    state.stats.count_request("responses")
    try:
        return await _serve(request, state)
    except SandboxAPIError as exc:
        return exc.to_response(limits.headers(state.faults))


async def _serve(request: Request, state: SandboxState) -> JSONResponse:
    faults, limits = state.faults, state.limits["responses"]
    require_auth(request, state.api_key)
    body = await read_json_object(request)
    params = parse_response_params(body)
    state.stats.record_response_input(params.input_text)
    state.stats.record_response_body(body)
    _check_marker(state, [params.input_text, params.instructions])

    if faults.insufficient_quota:
        raise insufficient_quota()
    if state.counters.take_rate_limit():
        raise limits.forced_rate_limit(faults)
    estimate = (
        estimate_tokens(params.instructions) + estimate_tokens(params.input_text) + (params.max_output_tokens or 0)
    )
    limits.admit(faults, estimate)
    if not state.stats.try_enter(faults.max_concurrency):
        raise SandboxAPIError(
            429,
            f"Too many concurrent requests: at most {faults.max_concurrency} may be in flight. "
            "Please retry after an in-flight request completes.",
            type="requests",
            code="rate_limit_exceeded",
            headers=retry_after_headers(max(CONCURRENCY_RETRY_MS, faults.responses_latency_ms) / 1000),
        )
    try:
        created_at = time.time()
        plan = state.counters.plan_responses()
        await state.sleeper.sleep(faults.responses_latency_ms / 1000)
        if plan.server_error:
            raise server_error(faults.server_error_status)
        if plan.hang:
            await _hang(request, state, faults.hang_s)
        payload = build_response(params, created_at)
        limits.settle_tokens(faults, estimate, payload["usage"]["total_tokens"])
        return JSONResponse(payload, headers=limits.headers(faults))
    finally:
        state.stats.leave()
