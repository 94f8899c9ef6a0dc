"""The Batches API: create, retrieve, list (newest first, cursor `after`), cancel.

`POST /v1/batches` refuses synchronously what the real API refuses at once (a missing or
unknown field, `completion_window` other than "24h", an unknown endpoint, metadata over
16 pairs / 64-char keys / 512-char values, an unknown or non-batch input file); everything
about the file's content is found later, by validation (the batch ends `failed`).
Request traps (`sandbox.batches.faults`): a create that fails, or succeeds but answers 500 or
answers late; retrieves that fail or say the batch is gone.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .errors import SandboxAPIError, bad_request, server_error
from .request_io import read_json_object, require_auth
from .routes_files import expiry_seconds
from .state import SandboxState

router = APIRouter()

# What the SDK's BatchCreateParams lists; the sandbox can run the first two.
RUNNABLE_ENDPOINTS = ("/v1/responses", "/v1/embeddings")
KNOWN_ENDPOINTS = (
    *RUNNABLE_ENDPOINTS,
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
)
_CREATE_FIELDS = {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"}
MAX_METADATA_PAIRS, MAX_KEY_CHARS, MAX_VALUE_CHARS = 16, 64, 512


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("Invalid type for 'metadata': expected an object.", param="metadata")
    if len(value) > MAX_METADATA_PAIRS:
        raise bad_request(
            f"Invalid 'metadata': too many pairs ({len(value)}); at most {MAX_METADATA_PAIRS}.", param="metadata"
        )
    for key, item in value.items():
        if len(key) > MAX_KEY_CHARS:
            raise bad_request(
                f"Invalid 'metadata': key '{key[:20]}…' is longer than {MAX_KEY_CHARS} characters.", param="metadata"
            )
        if not isinstance(item, str):
            raise bad_request(f"Invalid 'metadata.{key}': expected a string.", param="metadata")
        if len(item) > MAX_VALUE_CHARS:
            raise bad_request(
                f"Invalid 'metadata.{key}': value longer than {MAX_VALUE_CHARS} characters.", param="metadata"
            )
    return dict(value)


def _create_args(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - _CREATE_FIELDS)
    if unknown:
        raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise bad_request(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    if body["completion_window"] != "24h":
        raise bad_request(
            f"Invalid value for 'completion_window': '{body['completion_window']}'. Supported values are: '24h'.",
            param="completion_window",
            code="invalid_value",
        )
    endpoint = body["endpoint"]
    if endpoint not in KNOWN_ENDPOINTS:
        raise bad_request(
            f"Invalid value for 'endpoint': '{endpoint}'. Supported values are: {', '.join(KNOWN_ENDPOINTS)}.",
            param="endpoint",
            code="invalid_value",
        )
    if endpoint not in RUNNABLE_ENDPOINTS:
        raise bad_request(f"The lse sandbox does not run batches for '{endpoint}'.", param="endpoint")
    lifetime = None
    policy = body.get("output_expires_after")
    if policy is not None:
        if not isinstance(policy, dict):
            raise bad_request(
                "Invalid type for 'output_expires_after': expected an object.", param="output_expires_after"
            )
        lifetime = expiry_seconds(policy.get("anchor"), policy.get("seconds"), "output_expires_after")
    return {
        "input_file_id": body["input_file_id"],
        "endpoint": endpoint,
        "completion_window": "24h",
        "metadata": _metadata(body.get("metadata")),
        "output_lifetime_s": lifetime,
    }


@router.post("/v1/batches")
async def create_batch(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    world = state.batches
    try:
        require_auth(request, state.api_key)
        args = _create_args(await read_json_object(request))
        with world.lock:
            world.stats.count("create_calls")
            if world.faults.create_error_next > 0:
                world.faults.create_error_next -= 1
                raise server_error(500)
            batch = world.create(**args)
            wire = batch.to_wire()
            lost = world.faults.create_lost_response_next > 0
            if lost:
                world.faults.create_lost_response_next -= 1
            delay = world.faults.create_response_delay_s
        if delay > 0:
            await state.sleeper.sleep(delay)
        if lost:
            raise server_error(500)
        return JSONResponse(wire)
    except SandboxAPIError as exc:
        return exc.to_response()


@router.get("/v1/batches/{batch_id}")
async def retrieve_batch(batch_id: str, request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    world = state.batches
    try:
        require_auth(request, state.api_key)
        with world.lock:
            world.stats.count("retrieves")
            if world.faults.retrieve_error_next > 0:
                world.faults.retrieve_error_next -= 1
                raise server_error(world.faults.retrieve_error_status)
            if world.faults.retrieve_gone:
                raise SandboxAPIError(404, f"No batch found with id '{batch_id}'.", param="batch_id")
            return JSONResponse(world.get(batch_id).to_wire())
    except SandboxAPIError as exc:
        return exc.to_response()


@router.get("/v1/batches")
async def list_batches(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    world = state.batches
    try:
        require_auth(request, state.api_key)
        q = request.query_params
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            raise bad_request("Invalid 'limit': expected an integer.", param="limit") from None
        if not 1 <= limit <= 100:
            raise bad_request("Invalid 'limit': expected a value between 1 and 100.", param="limit")
        with world.lock:
            world.stats.count("lists")
            batches = world.newest_first()
            after = q.get("after")
            if after is not None:
                ids = [b.id for b in batches]
                batches = batches[ids.index(after) + 1 :] if after in ids else []
            data = [b.to_wire() for b in batches[:limit]]
        body = {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(batches) > limit,
        }
        return JSONResponse(body)
    except SandboxAPIError as exc:
        return exc.to_response()


@router.post("/v1/batches/{batch_id}/cancel")
async def cancel_batch(batch_id: str, request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    world = state.batches
    try:
        require_auth(request, state.api_key)
        with world.lock:
            world.stats.count("cancels")
            return JSONResponse(world.cancel(batch_id).to_wire())
    except SandboxAPIError as exc:
        return exc.to_response()
