"""Field types and input rules shared by every service's pydantic models.

Input that crosses the edge (API body, CLI flag, CSV cell) must be text and numbers that
every backend stores and every response can carry back. So each request model refuses,
with a 422 naming the place: NUL characters (PostgreSQL text and JSONB cannot hold them),
lone surrogates (no UTF-8 encoding exists, so a stored one could never be answered),
NaN and Infinity (JSON has no such numbers; they used to come back as null), nesting
deeper than `MAX_DEPTH`, strings longer than `MAX_STRING_CHARS` and keys longer than
`MAX_KEY_CHARS`. The walk is iterative, so a hostile depth cannot exhaust the stack.
The limits are documented in docs/security.md.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, model_validator

MAX_ID = 2**31 - 1  # INTEGER on both backends
MAX_DEPTH = 32  # objects and arrays inside one JSON value (config_blob, credentials)
MAX_STRING_CHARS = 65_536  # one string value (instructions are the long ones)
MAX_KEY_CHARS = 256  # one object key
_SURROGATE = re.compile("[\ud800-\udfff]")  # in a Python str every surrogate is a lone one


def _as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every time we store is UTC, so say so on the way out."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def has_nul(value: Any) -> bool:
    """NUL cannot be stored in PostgreSQL text or JSONB."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _string_problem(text: str, max_chars: int | None) -> str | None:
    if "\x00" in text:
        return "NUL"
    if has_lone_surrogate(text):
        return "surrogate"
    if max_chars is not None and len(text) > max_chars:
        return "long"
    return None


_MESSAGES = {
    "NUL": "text must not contain NUL (\\x00) characters",
    "surrogate": "text must not contain lone surrogates (\\ud800-\\udfff): they are not Unicode characters",
    "nan": "numbers must be finite: NaN and Infinity are not JSON",
    "deep": f"nested deeper than {MAX_DEPTH} levels",
    "long": f"string longer than {MAX_STRING_CHARS:,} characters",
    "key": f"object key longer than {MAX_KEY_CHARS} characters",
}


def input_problem(
    value: Any,
    *,
    max_depth: int = MAX_DEPTH,
    max_string: int | None = MAX_STRING_CHARS,
    max_key: int = MAX_KEY_CHARS,
) -> str | None:
    """The first reason `value` cannot be accepted (a key of `_MESSAGES`), or None."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            problem = _string_problem(item, max_string)
            if problem:
                return problem
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "nan"
        elif isinstance(item, dict):
            if depth >= max_depth:
                return "deep"
            for key, child in item.items():
                if isinstance(key, str):
                    problem = _string_problem(key, None)
                    if problem:
                        return problem
                    if len(key) > max_key:
                        return "key"
                stack.append((child, depth + 1))
        elif isinstance(item, (list, tuple)):
            if depth >= max_depth:
                return "deep"
            stack.extend((child, depth + 1) for child in item)
    return None


def check_input(value: Any, **limits: Any) -> None:
    """ValueError (a 422 at the API, exit 2 at the CLI) naming the first problem in `value`."""
    problem = input_problem(value, **limits)
    if problem:
        raise ValueError(_MESSAGES[problem])


def repair_text(value: Any) -> Any:
    """`value` with lone surrogates replaced by U+FFFD: how rows stored before the edge
    refused them are shown (never a 500), while runs refuse to use them."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {repair_text(k): repair_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [repair_text(v) for v in value]
    return value


class Input(BaseModel):
    """Base of every request model: the input rules above, over the whole payload."""

    @model_validator(mode="before")
    @classmethod
    def _check_input(cls, data: Any) -> Any:
        check_input(data)
        return data
