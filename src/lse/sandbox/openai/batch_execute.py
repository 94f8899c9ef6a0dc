"""Running one batch line exactly as the synchronous endpoint would answer it.

The body goes through the same validation and the same deterministic model as
`POST /v1/responses` and `POST /v1/embeddings`; a `SandboxAPIError` becomes the line's
status code and `{"error": {...}}` body, which the batch writes to the error file with
`"error": null` at the top level (that is how OpenAI reports a request-level API error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import SandboxAPIError, bad_request, server_error
from .response_body import build_response
from .response_params import parse_response_params


@dataclass(frozen=True)
class LineResult:
    status_code: int
    body: dict[str, Any]
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0


def _error_body(exc: SandboxAPIError) -> dict[str, Any]:
    return {"error": {"message": exc.message, "type": exc.type, "param": exc.param, "code": exc.code}}


def _check_marker(marker: str | None, texts: list[str | None]) -> None:
    if marker and any(marker in (t or "") for t in texts):
        raise bad_request(
            f"Invalid input: the sandbox rejects any input containing {marker!r}.", param="input", code="invalid_value"
        )


def _responses(body: dict[str, Any], marker: str | None, created_at: float) -> LineResult:
    params = parse_response_params(body)
    _check_marker(marker, [params.input_text, params.instructions])
    payload = build_response(params, created_at)
    usage = payload["usage"]
    return LineResult(
        200,
        payload,
        input_tokens=usage["input_tokens"],
        cached_tokens=usage["input_tokens_details"]["cached_tokens"],
        output_tokens=usage["output_tokens"],
        reasoning_tokens=usage["output_tokens_details"]["reasoning_tokens"],
    )


def _embeddings(body: dict[str, Any], marker: str | None) -> LineResult:
    # The synchronous route's own checks, so a line fails exactly as a call would.
    from .model import sandbox_embedding
    from .routes_embeddings import _dimensions, _encode, _inputs, _validate

    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    texts = _inputs(body)
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise bad_request("Invalid 'encoding_format': expected 'float' or 'base64'.", param="encoding_format")
    dim = _dimensions(body)
    total = sum(_validate(texts, marker))
    data = [
        {"object": "embedding", "index": i, "embedding": _encode(sandbox_embedding(text, dim), fmt)}
        for i, text in enumerate(texts)
    ]
    payload = {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": total, "total_tokens": total}}
    return LineResult(200, payload, input_tokens=total)


def execute_line(
    endpoint: str,
    body: dict[str, Any],
    *,
    marker: str | None,
    created_at: float,
    fail_status: int | None = None,
    force_incomplete: bool = False,
) -> LineResult:
    """The line's outcome; `fail_status` and `force_incomplete` are the batch's line traps."""
    try:
        if fail_status is not None:
            if fail_status >= 500:
                raise server_error(fail_status)
            raise SandboxAPIError(fail_status, "The sandbox was told to fail this request.", code="sandbox_fault")
        if endpoint == "/v1/embeddings":
            return _embeddings(body, marker)
        if force_incomplete:
            body = {**body, "max_output_tokens": 16}
        return _responses(body, marker, created_at)
    except SandboxAPIError as exc:
        return LineResult(exc.status, _error_body(exc))
