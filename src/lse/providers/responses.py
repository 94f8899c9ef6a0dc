"""Responses API adapter: one item in, text + usage + headers out, SDK errors translated.

The config version's params become the request body through `params.responses_body`
(Kaapi's meaning, lse's allowlist), never verbatim; a parameter the deployment allows
beyond the list that the SDK does not know travels in `extra_body`. `with_raw_response`
gives the rate-limit headers the rate adapter learns from.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import openai

from lse.providers.errors import translate
from lse.providers.params import responses_body
from lse.providers.usage import Usage

log = logging.getLogger(__name__)


@dataclass
class ResponseCall:
    response_id: str | None
    output_text: str
    status: str | None
    usage: Usage | None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # why the answer is not a whole answer: failed, incomplete, unreadable
    error_code: str | None = None  # response_failed | response_incomplete | response_cancelled | malformed_output


@lru_cache(maxsize=1)
def _known_params() -> frozenset[str]:
    from openai.resources.responses import Responses

    sig = inspect.signature(Responses.create)
    return frozenset(p for p in sig.parameters if p != "self")


def _sdk_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    """The body as SDK kwargs: names the SDK does not know go in `extra_body`."""
    known = {k: v for k, v in body.items() if k in _known_params()}
    extra = {k: v for k, v in body.items() if k not in known}
    if extra:
        known["extra_body"] = extra
    return known


def create_response(
    client: openai.OpenAI,
    *,
    params: dict[str, Any],
    input: str,
    timeout: float | None = None,
    extra_allowed: frozenset[str] | set[str] | tuple[str, ...] = (),
) -> ResponseCall:
    """One Responses call for `input` under the config's `params` (ParamError if they are
    not allowed: see `lse.providers.params`)."""
    kwargs = _sdk_kwargs(responses_body(params, input=input, extra_allowed=extra_allowed))
    if timeout is not None:
        kwargs["timeout"] = timeout
    try:
        raw = client.responses.with_raw_response.create(**kwargs)
        response = raw.parse()
    except Exception as exc:
        raise translate(exc, what="responses.create") from exc
    status = getattr(response, "status", None)
    error = error_code = None
    if status in ("failed", "incomplete", "cancelled"):
        detail = getattr(response, "error", None) or getattr(response, "incomplete_details", None)
        error = f"response {status}: {getattr(detail, 'message', None) or getattr(detail, 'reason', None) or detail}"
        error_code = f"response_{status}"
    try:
        text = response.output_text
    except (AttributeError, TypeError) as exc:  # an output list the SDK cannot read
        text = ""
        error = f"malformed output from responses.create: {type(exc).__name__}: {exc}"
        error_code = "malformed_output"
    return ResponseCall(
        response_id=getattr(response, "id", None),
        output_text=text,
        status=status,
        usage=Usage.from_api(getattr(response, "usage", None)),
        headers=dict(raw.headers),
        error=error,
        error_code=error_code,
    )


_WARM_PAYLOAD: dict[str, Any] = {
    "id": "resp_warm",
    "object": "response",
    "created_at": 0,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "model": "warm-up",
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
    "temperature": 1.0,
    "top_p": 1.0,
    "metadata": {},
    "reasoning": {"effort": None, "summary": None},
    "text": {"format": {"type": "text"}},
    "output": [
        {
            "type": "message",
            "id": "msg_warm",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "", "annotations": [], "logprobs": []}],
        }
    ],
    "usage": {
        "input_tokens": 0,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 0,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 0,
    },
}


def warm_up() -> None:
    """Build the SDK's lazily-generated response models now (~0.5 s of CPU on first use).

    Called in a background thread when a run starts, so the cost overlaps the first wave
    of calls instead of being paid by all of them at once when their answers arrive.
    Validating a minimal Response through pydantic's public API builds the same models.
    """
    from openai.types.responses import Response
    from pydantic import ValidationError

    try:
        Response.model_validate(_WARM_PAYLOAD)
    except ValidationError as exc:  # an SDK whose Response changed shape: only the warm-up is lost
        log.warning("Responses model warm-up skipped: %s", exc.errors()[0].get("msg"))
