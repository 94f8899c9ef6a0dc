"""GET /v1/models and /v1/models/{id}: a small fixed catalogue, enough for clients that
probe the endpoint or validate a model name before use."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .errors import SandboxAPIError
from .request_io import require_auth
from .state import SandboxState

router = APIRouter()

MODEL_IDS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-5",
    "gpt-5-mini",
    "o4-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
)
_CREATED = 1_700_000_000


def _model(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": "system"}


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    state.stats.count_request("models")
    try:
        require_auth(request, state.api_key)
    except SandboxAPIError as exc:
        return exc.to_response()
    return JSONResponse({"object": "list", "data": [_model(m) for m in MODEL_IDS]})


@router.get("/v1/models/{model_id}")
async def get_model(model_id: str, request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    state.stats.count_request("models")
    try:
        require_auth(request, state.api_key)
        if model_id not in MODEL_IDS:
            raise SandboxAPIError(404, f"The model '{model_id}' does not exist", code="model_not_found", param="model")
    except SandboxAPIError as exc:
        return exc.to_response()
    return JSONResponse(_model(model_id))
