"""Validating a /v1/responses body into the few fields the sandbox acts on.

Checks mirror the real API where a client bug would otherwise go unnoticed offline: unknown
and wrongly typed parameters (`request_schema`), required fields, value ranges,
`max_output_tokens >= 16`, and sampling / reasoning parameters sent to models that reject them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .model import is_reasoning_model
from .request_schema import check_request_body
from .responses_input import extract_input_text


@dataclass(frozen=True)
class ResponseParams:
    model: str
    input_text: str
    instructions: str | None
    temperature: float | None
    top_p: float | None
    max_output_tokens: int | None
    reasoning_effort: str | None
    body: dict[str, Any]


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"Invalid type for '{name}': expected a number.", param=name, code="invalid_type")
    if not low <= value <= high:
        raise bad_request(
            f"Invalid '{name}': expected a value between {low:g} and {high:g}, but got {value} instead.",
            param=name,
            code="invalid_value",
        )
    return float(value)


def _unsupported(name: str) -> Exception:
    return bad_request(
        f"Unsupported parameter: '{name}' is not supported with this model.",
        param=name,
        code="unsupported_parameter",
    )


def parse_response_params(body: dict[str, Any]) -> ResponseParams:
    """The validated parameters, or a 400 naming the offending `param`."""
    check_request_body(body)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    if "input" not in body or body["input"] is None:
        raise bad_request("Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    if body.get("stream"):
        raise bad_request("The lse sandbox does not support stream=true.", param="stream")
    input_text = extract_input_text(body["input"])
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise bad_request("Invalid type for 'instructions': expected a string.", param="instructions")
    max_out = body.get("max_output_tokens")
    if max_out is not None and (isinstance(max_out, bool) or not isinstance(max_out, int) or max_out < 16):
        raise bad_request(
            "Invalid 'max_output_tokens': integer below minimum value. "
            f"Expected a value >= 16, but got {max_out} instead.",
            param="max_output_tokens",
            code="integer_below_min_value",
        )
    reasoning = body.get("reasoning") or {}
    if not isinstance(reasoning, dict):
        raise bad_request("Invalid type for 'reasoning': expected an object.", param="reasoning")
    effort = reasoning.get("effort")
    temperature = _number(body, "temperature", 0, 2)
    top_p = _number(body, "top_p", 0, 1)
    if is_reasoning_model(model):
        if effort != "none":
            # Reasoning models accept only the default sampling values.
            if temperature not in (None, 1.0):
                raise _unsupported("temperature")
            if top_p not in (None, 1.0):
                raise _unsupported("top_p")
    elif effort is not None:
        raise _unsupported("reasoning.effort")
    return ResponseParams(
        model=model,
        input_text=input_text,
        instructions=instructions,
        temperature=temperature,
        top_p=top_p,
        max_output_tokens=max_out,
        reasoning_effort=effort,
        body=body,
    )
