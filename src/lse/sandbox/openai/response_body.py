"""Building the Response object that `client.responses.create` parses.

Field set and shapes follow `openai.types.responses.Response`; `output_text` comes from the
single assistant message. Reasoning models also get a (summary-less) reasoning item first, as
the real API returns. An answer over `max_output_tokens` is cut and the response marked
`incomplete` with reason `max_output_tokens`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from .model import (
    compute_usage,
    estimate_tokens,
    is_reasoning_model,
    reasoning_tokens_for,
    sandbox_answer,
    truncate_to_tokens,
)
from .response_params import ResponseParams
from .structured import structured_text


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def answer_for(params: ResponseParams) -> tuple[str, bool]:
    """The text to return and whether it was cut short by `max_output_tokens`."""
    answer = sandbox_answer(params.model, params.instructions, params.input_text)
    text = structured_text(params.body.get("text"), answer) or answer
    if params.max_output_tokens is None:
        return text, False
    reasoning = reasoning_tokens_for(params.model, estimate_tokens(answer), params.reasoning_effort)
    budget = max(0, params.max_output_tokens - reasoning)
    if estimate_tokens(text) <= budget:
        return text, False
    return truncate_to_tokens(text, budget), True


def build_response(params: ResponseParams, created_at: float) -> dict[str, Any]:
    text, truncated = answer_for(params)
    # Reasoning tokens follow the full answer (reasoning happens before the cut); only the
    # visible text's tokens shrink with truncation.
    usage = compute_usage(params.model, params.instructions, params.input_text, text, params.reasoning_effort)
    status = "incomplete" if truncated else "completed"
    output: list[dict[str, Any]] = []
    if is_reasoning_model(params.model):
        output.append({"type": "reasoning", "id": _id("rs"), "summary": []})
    if text:
        output.append(
            {
                "type": "message",
                "id": _id("msg"),
                "status": status,
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        )
    body = params.body
    return {
        "id": _id("resp"),
        "object": "response",
        "created_at": int(created_at),
        "completed_at": None if truncated else int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if truncated else None,
        "instructions": params.instructions,
        "max_output_tokens": params.max_output_tokens,
        "max_tool_calls": None,
        "model": params.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": params.reasoning_effort, "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": params.temperature if params.temperature is not None else 1.0,
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": params.top_p if params.top_p is not None else 1.0,
        "truncation": body.get("truncation", "disabled"),
        "usage": usage.to_wire(),
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }
