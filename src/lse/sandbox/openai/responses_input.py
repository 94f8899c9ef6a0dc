"""Flattening a Responses `input` (a string or a list of input items) into plain text.

The sandbox answers and bills text, so every text-bearing part counts: message content as a
string or as `input_text`/`output_text` parts, and `function_call_output` outputs. Images and
files carry no text here and are skipped. Parts are joined with newlines, in order.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request

_TEXT_PART_TYPES = {"input_text", "output_text", "text", "refusal"}


def _content_text(content: Any, where: str) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise bad_request(f"Invalid type for '{where}': expected a string or an array of content parts.", param=where)
    texts: list[str] = []
    for i, part in enumerate(content):
        if not isinstance(part, dict):
            raise bad_request(f"Invalid type for '{where}[{i}]': expected an object.", param=f"{where}[{i}]")
        if part.get("type") in _TEXT_PART_TYPES:
            text = part.get("text", part.get("refusal"))
            if not isinstance(text, str):
                raise bad_request(f"Missing required parameter: '{where}[{i}].text'.", param=f"{where}[{i}].text")
            texts.append(text)
    return texts


def extract_input_text(value: Any) -> str:
    """Text of `input`, or 400 with `param` naming the offending path."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise bad_request(
            "Invalid type for 'input': expected one of a string or array of input items, "
            f"but got {type(value).__name__} instead.",
            param="input",
            code="invalid_type",
        )
    texts: list[str] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise bad_request(f"Invalid type for '{where}': expected an input item object.", param=where)
        kind = item.get("type", "message")
        if kind == "message" or "role" in item:
            texts.extend(_content_text(item.get("content"), f"{where}.content"))
        elif kind == "function_call_output" and isinstance(item.get("output"), str):
            texts.append(item["output"])
    return "\n".join(texts)
