"""Lossless JSON for stored runs and LangSmith payloads.

Responses are parsed with `Decimal` for every non-integer number, so a cost such as
0.000123456789012345678 keeps every digit. When written back, a Decimal becomes a JSON
number: a plain float when the float round-trips to the same decimal (the normal
case), otherwise the exact digits spliced in as a raw number literal. UUIDs and
datetimes arrive as strings from the API and are kept as they came.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def _exact_float(value: Decimal) -> float | None:
    as_float = float(value)
    if value.is_finite() and Decimal(repr(as_float)) == value:
        return as_float
    return None


def dumps_line(obj: Any) -> str:
    """One JSON line, ASCII-only (lone surrogates and U+0000 survive as escapes)."""
    nonce = secrets.token_hex(8)
    marker = f"\x01{nonce}:"
    spliced = False

    def plain(o: Any) -> Any:
        nonlocal spliced
        if isinstance(o, Decimal):
            exact = _exact_float(o)
            if exact is not None or not o.is_finite():
                return exact if exact is not None else float(o)
            spliced = True
            return marker + format(o, "f")
        if isinstance(o, dict):
            return {k: plain(v) for k, v in o.items()}
        if isinstance(o, list):
            return [plain(v) for v in o]
        return o

    text = json.dumps(plain(obj), ensure_ascii=True, separators=(",", ":"))
    if spliced:
        pattern = re.compile(r'"\\u0001' + nonce + r':(-?[0-9.]+)"')
        text = pattern.sub(lambda m: m.group(1), text)
    return text
