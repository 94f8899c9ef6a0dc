"""Judging one result line by what it says, never by which file it came from.

A line is a success only if its top-level `error` is null, `response.status_code` is 200 and
(for /v1/responses) `body.status` is "completed" with readable output. Everything else is:
- `failed`: the provider answered and the answer is final — a 4xx (the provider's message
  and code kept), or a 200 that is not a whole answer (`incomplete`, `failed`: the partial
  text is kept for reading, never scored, exactly as fast mode does);
- `retry`: worth sending again — 408/409/429/5xx, a `request_timeout`, an unknown error;
- `not_executed`: never run — `batch_expired`, `batch_cancelled`.
Usage is taken from any line that carries it: that is what the provider billed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from lse.evals.batch.states import FAILED, NOT_EXECUTED, RETRY, SUCCEEDED
from lse.providers.usage import Usage

NOT_EXECUTED_CODES = frozenset({"batch_expired", "batch_cancelled"})
RETRYABLE_STATUS = frozenset({408, 409, 429})


@dataclass(frozen=True)
class LineVerdict:
    custom_id: str
    kind: str  # succeeded | failed | retry | not_executed
    status_code: int | None = None
    output: str | None = None
    error: str | None = None
    error_code: str | None = None
    usage: Usage | None = None
    response_id: str | None = None


@dataclass(frozen=True)
class BadLine:
    """A line that is not a result line at all (unparseable, or without a custom_id)."""

    number: int
    reason: str


def iter_result_lines(fh: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """(1-based line number, parsed object or BadLine) for every non-blank line, streaming."""
    for number, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            yield number, BadLine(number, f"not JSON: {exc}")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("custom_id"), str):
            yield number, BadLine(number, "not a result line (no custom_id)")
            continue
        yield number, obj


def output_text(body: dict[str, Any]) -> str | None:
    """The concatenated `output_text` parts of a Response body (what the SDK's `output_text` reads)."""
    output = body.get("output")
    if not isinstance(output, list):
        return None
    texts: list[str] = []
    for item in output:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        content = item.get("content")
        if not isinstance(content, list):
            return None
        for part in content:
            if isinstance(part, dict) and part.get("type") == "output_text":
                if not isinstance(part.get("text"), str):
                    return None
                texts.append(part["text"])
    return "".join(texts)


def _error_of(body: Any) -> tuple[str | None, str | None]:
    """(message, code) of an OpenAI error body."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return None, None
    code = err.get("code") or err.get("type")
    return (str(err.get("message")) if err.get("message") else None), (str(code) if code else None)


def _usage(body: Any) -> Usage | None:
    return Usage.from_api(body.get("usage")) if isinstance(body, dict) and isinstance(body.get("usage"), dict) else None


def judge_line(obj: dict[str, Any], endpoint: str = "/v1/responses") -> LineVerdict:
    cid = obj["custom_id"]
    error = obj.get("error")
    response = obj.get("response")
    if error is not None:
        code = str(error.get("code")) if isinstance(error, dict) and error.get("code") else "batch_error"
        message = str(error.get("message")) if isinstance(error, dict) and error.get("message") else json.dumps(error)
        kind = NOT_EXECUTED if code in NOT_EXECUTED_CODES else RETRY
        billed = _usage(response.get("body")) if isinstance(response, dict) else None
        return LineVerdict(cid, kind, error=f"{code}: {message}", error_code=code, usage=billed)
    if not isinstance(response, dict) or not isinstance(response.get("status_code"), int):
        return LineVerdict(
            cid, RETRY, error="a result line with neither a response nor an error", error_code="malformed_line"
        )
    status = response["status_code"]
    body = response.get("body")
    usage = _usage(body)
    if status != 200:
        their_message, their_code = _error_of(body)
        kind = RETRY if status in RETRYABLE_STATUS or status >= 500 else FAILED
        said = f"HTTP {status}: {their_message or json.dumps(body)[:500]}"
        code_of = (their_code or f"http_{status}")[:64]
        return LineVerdict(cid, kind, status, error=said, error_code=code_of, usage=usage)
    if not isinstance(body, dict):
        return LineVerdict(cid, FAILED, status, error="a 200 line without a body", error_code="malformed_output")
    response_id = body.get("id") if isinstance(body.get("id"), str) else None
    if endpoint != "/v1/responses":
        return LineVerdict(cid, SUCCEEDED, status, usage=usage, response_id=response_id)
    text = output_text(body)
    state = body.get("status")
    if text is None:
        return LineVerdict(
            cid,
            FAILED,
            status,
            error="output the Responses format cannot read",
            error_code="malformed_output",
            usage=usage,
            response_id=response_id,
        )
    if state == "completed":
        return LineVerdict(cid, SUCCEEDED, status, output=text, usage=usage, response_id=response_id)
    detail = body.get("error") or body.get("incomplete_details") or {}
    reason = detail.get("message") or detail.get("reason") if isinstance(detail, dict) else None
    return LineVerdict(
        cid,
        FAILED,
        status,
        output=text,
        error=f"response {state}: {reason or detail or 'no reason given'}",
        error_code=f"response_{state}"[:64],
        usage=usage,
        response_id=response_id,
    )
