"""The Files API: upload (multipart), retrieve, list, delete, and content download.

Checks follow the SDK's documented limits: `purpose` one of the SDK's `FilePurpose` values,
`expires_after` anchored at `created_at` with 3,600–2,592,000 seconds, files up to 512 MB,
and for `purpose=batch` only `.jsonl` up to the batch limit (200 MB unless a test lowers
it). Unknown form fields are refused, stricter than the real API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from .errors import SandboxAPIError, bad_request, server_error
from .request_io import require_auth
from .state import SandboxState

router = APIRouter()

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MAX_FILE_BYTES = 512 * 1024 * 1024
MIN_EXPIRY_S, MAX_EXPIRY_S = 3600, 2_592_000
_FORM_FIELDS = {"file", "purpose", "expires_after[anchor]", "expires_after[seconds]"}


def expiry_seconds(anchor: Any, seconds: Any, name: str) -> int:
    """The validated `seconds` of an `{anchor, seconds}` expiry policy (shared with batches)."""
    if anchor != "created_at":
        raise bad_request(f"Invalid '{name}.anchor': only 'created_at' is supported.", param=f"{name}.anchor")
    try:
        value = int(str(seconds))
    except ValueError:
        raise bad_request(f"Invalid '{name}.seconds': expected an integer.", param=f"{name}.seconds") from None
    if not MIN_EXPIRY_S <= value <= MAX_EXPIRY_S:
        raise bad_request(
            f"Invalid '{name}.seconds': expected a value between {MIN_EXPIRY_S} and {MAX_EXPIRY_S}, got {value}.",
            param=f"{name}.seconds",
        )
    return value


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


async def _upload(request: Request, state: SandboxState) -> dict[str, Any]:
    world = state.batches
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise bad_request("Uploads must be sent as multipart/form-data.")
    form = await request.form(max_part_size=MAX_FILE_BYTES + 1)
    unknown = sorted(set(form.keys()) - _FORM_FIELDS)
    if unknown:
        raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise bad_request("Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
    purpose = form.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise bad_request("Missing required parameter: 'purpose'.", param="purpose", code="missing_required_parameter")
    if purpose not in PURPOSES:
        raise bad_request(f"'{purpose}' is not one of {list(PURPOSES)} - 'purpose'", param="purpose")
    lifetime: int | None = None
    if "expires_after[anchor]" in form or "expires_after[seconds]" in form:
        lifetime = expiry_seconds(
            form.get("expires_after[anchor]"), form.get("expires_after[seconds]"), "expires_after"
        )
    data = await upload.read()
    filename = upload.filename or "file"
    if len(data) > MAX_FILE_BYTES:
        raise bad_request(f"File too large: {len(data)} bytes; the maximum is {MAX_FILE_BYTES}.", param="file")
    if purpose == "batch":
        if not filename.endswith(".jsonl"):
            raise bad_request("Invalid file format for Batch API. Must be .jsonl", param="file")
        if len(data) > world.faults.max_file_bytes:
            raise bad_request(
                f"File too large for the Batch API: {len(data)} bytes; the maximum is {world.faults.max_file_bytes}.",
                param="file",
            )
    with world.lock:
        return world.upload(filename, purpose, data, lifetime).to_wire()


@router.post("/v1/files")
async def create_file(request: Request) -> JSONResponse:
    state = _state(request)
    try:
        require_auth(request, state.api_key)
        return JSONResponse(await _upload(request, state))
    except SandboxAPIError as exc:
        return exc.to_response()


@router.get("/v1/files")
async def list_files(request: Request) -> JSONResponse:
    state = _state(request)
    world = state.batches
    try:
        require_auth(request, state.api_key)
        q = request.query_params
        order = q.get("order", "desc")
        if order not in ("asc", "desc"):
            raise bad_request("Invalid 'order': expected 'asc' or 'desc'.", param="order")
        try:
            limit = int(q.get("limit", "10000"))
        except ValueError:
            raise bad_request("Invalid 'limit': expected an integer.", param="limit") from None
        if not 1 <= limit <= 10_000:
            raise bad_request("Invalid 'limit': expected a value between 1 and 10000.", param="limit")
        with world.lock:
            world.stats.count("file_lists")
            files = world.files.listing(world.clock.now(), q.get("purpose"), order)
            after = q.get("after")
            if after is not None:
                ids = [f.id for f in files]
                files = files[ids.index(after) + 1 :] if after in ids else []
            page = files[:limit]
            data = [f.to_wire() for f in page]
        body = {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(files) > limit,
        }
        return JSONResponse(body)
    except SandboxAPIError as exc:
        return exc.to_response()


@router.get("/v1/files/{file_id}")
async def retrieve_file(file_id: str, request: Request) -> JSONResponse:
    state = _state(request)
    world = state.batches
    try:
        require_auth(request, state.api_key)
        with world.lock:
            world.stats.count("file_retrieves")
            return JSONResponse(world.files.get(file_id, world.clock.now()).to_wire())
    except SandboxAPIError as exc:
        return exc.to_response()


@router.delete("/v1/files/{file_id}")
async def delete_file(file_id: str, request: Request) -> JSONResponse:
    state = _state(request)
    world = state.batches
    try:
        require_auth(request, state.api_key)
        with world.lock:
            world.stats.count("file_deletes")
            record = world.files.delete(file_id, world.clock.now())
        return JSONResponse({"id": record.id, "object": "file", "deleted": True})
    except SandboxAPIError as exc:
        return exc.to_response()


@router.get("/v1/files/{file_id}/content")
async def file_content(file_id: str, request: Request) -> Response:
    state = _state(request)
    world = state.batches
    try:
        require_auth(request, state.api_key)
        with world.lock:
            world.stats.count("content_downloads")
            if world.faults.content_error_next > 0:
                world.faults.content_error_next -= 1
                raise server_error(500)
            data = world.files.get(file_id, world.clock.now()).data
        return Response(content=data, media_type="application/octet-stream")
    except SandboxAPIError as exc:
        return exc.to_response()
