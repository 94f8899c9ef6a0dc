"""POST /v1/embeddings: batch limits as the real API enforces them, deterministic vectors.

Limits (each a 400 invalid_request_error): at most 2048 inputs, at most 300,000 estimated
tokens per request, at most 8192 per input, no empty strings, no token arrays (the sandbox
only embeds text). `encoding_format` "base64" returns little-endian float32 bytes, which is
what the SDK requests by default and decodes itself.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .errors import SandboxAPIError, bad_request, insufficient_quota, server_error
from .model import DEFAULT_EMBEDDING_DIM, estimate_tokens, sandbox_embedding
from .request_io import read_json_object, require_auth
from .state import SandboxState

router = APIRouter()

MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
MAX_INPUT_TOKENS = 8192
MAX_DIMENSIONS = 3072


def _inputs(body: dict[str, Any]) -> list[str]:
    value = body.get("input")
    if value is None:
        raise bad_request("Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise bad_request(
        "'$.input' is invalid: the lse sandbox accepts a string or an array of strings (no token arrays).",
        param="input",
    )


def _validate(texts: list[str], marker: str | None) -> list[int]:
    """Token estimate per input, after every limit check the real endpoint applies."""
    if not texts:
        raise bad_request("'$.input' is invalid: the array of inputs must not be empty.", param="input")
    if len(texts) > MAX_INPUTS:
        raise bad_request(
            f"Too many inputs. The max number of inputs is {MAX_INPUTS}. We recommend batching your "
            f"requests (got {len(texts)}).",
            param="input",
        )
    tokens = []
    for i, text in enumerate(texts):
        if not text:
            raise bad_request(f"'$.input[{i}]' is invalid: input must not be an empty string.", param="input")
        if marker and marker in text:
            raise bad_request(
                f"Invalid input[{i}]: the sandbox rejects any input containing {marker!r}.", param="input"
            )
        n = estimate_tokens(text)
        if n > MAX_INPUT_TOKENS:
            raise bad_request(
                f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however you requested "
                f"{n} tokens (input[{i}]). Please reduce your prompt.",
                param="input",
            )
        tokens.append(n)
    total = sum(tokens)
    if total > MAX_REQUEST_TOKENS:
        raise bad_request(
            f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request.",
            param="input",
            code="max_tokens_per_request",
        )
    return tokens


def _dimensions(body: dict[str, Any]) -> int:
    dim = body.get("dimensions")
    if dim is None:
        return DEFAULT_EMBEDDING_DIM
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIMENSIONS:
        raise bad_request(
            f"Invalid 'dimensions': expected an integer between 1 and {MAX_DIMENSIONS}.", param="dimensions"
        )
    return dim


def _encode(vector: list[float], fmt: str) -> list[float] | str:
    if fmt == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


@router.post("/v1/embeddings")
async def create_embeddings(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    limits = state.limits["embeddings"]
    state.stats.count_request("embeddings")
    try:
        return await _serve(request, state)
    except SandboxAPIError as exc:
        return exc.to_response(limits.headers(state.faults))


async def _serve(request: Request, state: SandboxState) -> JSONResponse:
    faults, limits = state.faults, state.limits["embeddings"]
    require_auth(request, state.api_key)
    body = await read_json_object(request)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    texts = _inputs(body)
    state.stats.record_embeddings_batch(len(texts))
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise bad_request("Invalid 'encoding_format': expected 'float' or 'base64'.", param="encoding_format")
    dim = _dimensions(body)
    tokens = _validate(texts, faults.bad_request_marker)

    if faults.insufficient_quota:
        raise insufficient_quota()
    limits.admit(faults)
    fail = state.counters.take_embeddings_server_error()
    await state.sleeper.sleep(faults.embeddings_latency_ms / 1000)
    if fail:
        raise server_error(faults.server_error_status)
    data = [
        {"object": "embedding", "index": i, "embedding": _encode(sandbox_embedding(text, dim), fmt)}
        for i, text in enumerate(texts)
    ]
    total = sum(tokens)
    limits.consume_tokens(total)
    payload = {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": total, "total_tokens": total}}
    return JSONResponse(payload, headers=limits.headers(faults))
