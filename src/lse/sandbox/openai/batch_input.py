"""Validating a batch input file the way the Batch API's `validating` step does.

The whole file is checked before anything runs; every problem becomes one entry of the
batch's `errors.data` (`code`, 1-based `line`, `message`, `param`) and the batch ends
`failed` with nothing executed. Parameter errors inside a `body` are not validation
errors: they surface per line at execution time, as 400 lines in the error file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .model import estimate_tokens

MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class InputLine:
    line: int  # 1-based
    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class BatchErrorEntry:
    code: str
    message: str
    line: int | None = None
    param: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"code": self.code, "line": self.line, "message": self.message, "param": self.param}


@dataclass
class ParsedInput:
    lines: list[InputLine]
    errors: list[BatchErrorEntry]
    model: str | None
    prompt_tokens: int  # estimated, what the enqueued-token limit counts


def _prompt_tokens(endpoint: str, body: dict[str, Any]) -> int:
    if endpoint == "/v1/embeddings":
        value = body.get("input")
        texts = [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]
        return sum(estimate_tokens(t) for t in texts)
    text = body.get("input")
    instructions = body.get("instructions")
    return estimate_tokens(json.dumps(text) if not isinstance(text, str) else text) + estimate_tokens(
        instructions if isinstance(instructions, str) else None
    )


def _embedding_inputs(body: dict[str, Any]) -> int:
    value = body.get("input")
    return len(value) if isinstance(value, list) else 1


def parse_input(
    data: bytes, endpoint: str, *, max_requests: int, max_embedding_inputs: int, reject_lines: tuple[int, ...] = ()
) -> ParsedInput:
    """Every line parsed and checked; `errors` empty means the batch may run."""
    errors: list[BatchErrorEntry] = []
    lines: list[InputLine] = []
    seen: set[str] = set()
    model: str | None = None
    tokens = 0
    inputs = 0
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1].strip() == b"":
        raw_lines.pop()
    if not raw_lines:
        return ParsedInput([], [BatchErrorEntry("empty_file", "The input file is empty.")], None, 0)
    if len(raw_lines) > max_requests:
        message = f"The batch input file has {len(raw_lines)} requests; the maximum is {max_requests}."
        return ParsedInput([], [BatchErrorEntry("too_many_tasks", message)], None, 0)

    def bad(code: str, number: int, message: str, param: str | None = None) -> None:
        if len(errors) < MAX_REPORTED_ERRORS:
            errors.append(BatchErrorEntry(code, message, number, param))

    for number, raw in enumerate(raw_lines, start=1):
        try:
            obj = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            bad("invalid_json_line", number, "This line is not parseable as valid JSON.")
            continue
        if not isinstance(obj, dict):
            bad("invalid_json_line", number, "This line is not a JSON object.")
            continue
        unknown = sorted(set(obj) - {"custom_id", "method", "url", "body"})
        if unknown:
            bad("invalid_request", number, f"Unrecognized request field: '{unknown[0]}'.", unknown[0])
            continue
        custom_id, method, url, body = obj.get("custom_id"), obj.get("method"), obj.get("url"), obj.get("body")
        if not isinstance(custom_id, str) or not custom_id:
            bad("missing_required_parameter", number, "Missing required parameter: 'custom_id'.", "custom_id")
            continue
        if custom_id in seen:
            bad("duplicate_custom_id", number, f"The custom_id '{custom_id}' is used more than once.", "custom_id")
            continue
        seen.add(custom_id)
        if method != "POST":
            bad("invalid_method", number, "Only the POST method is supported for batch requests.", "method")
            continue
        if url != endpoint:
            message = f"The URL '{url}' of this line does not match the batch endpoint '{endpoint}'."
            bad("url_mismatch", number, message, "url")
            continue
        if not isinstance(body, dict):
            bad("invalid_request", number, "The 'body' of a batch request must be a JSON object.", "body")
            continue
        line_model = body.get("model")
        if not isinstance(line_model, str) or not line_model:
            bad("missing_required_parameter", number, "Missing required parameter: 'body.model'.", "body.model")
            continue
        if model is None:
            model = line_model
        elif line_model != model:
            message = f"All requests in a batch must use the same model; this line uses '{line_model}', not '{model}'."
            bad("model_mismatch", number, message, "body.model")
            continue
        if number in reject_lines:
            bad("invalid_request", number, "The sandbox was told to reject this line.", "body")
            continue
        tokens += _prompt_tokens(endpoint, body)
        if endpoint == "/v1/embeddings":
            inputs += _embedding_inputs(body)
        lines.append(InputLine(number, custom_id, body))
    if endpoint == "/v1/embeddings" and inputs > max_embedding_inputs:
        message = f"The batch holds {inputs} embedding inputs; the maximum is {max_embedding_inputs}."
        errors.append(BatchErrorEntry("too_many_embedding_inputs", message))
    return ParsedInput(lines, errors, model, tokens)
