"""A reversible encoding that lets any parsed JSON value live in PostgreSQL JSONB and text.

Real traces contain what PostgreSQL refuses: U+0000 in strings (JSONB and text reject
it), lone UTF-16 surrogates (not encodable as UTF-8) and NaN/Infinity floats (not
JSON). Dropping or replacing them would be silent loss, so a value that holds any of
them is stored with those strings and floats rewritten as *marked strings*:

    MARK + "s:" + payload   a string; payload has "\\" -> "\\\\", U+0000 -> "\\0",
                            a lone surrogate -> "\\uXXXX" (lowercase hex)
    MARK + "f:" + token     a float: "NaN", "Infinity" or "-Infinity"

MARK is the private-use character U+E000 followed by "lse1". Any original string that
already starts with MARK is escaped too, so decoding is unambiguous; dict keys are
treated like strings. The row that holds such a value is marked (`runs.data_encoding`,
`feedback.encoding` = ENCODING) and `decode_stored(value)` gives back the exact
original. Decoding a value that was stored plain is a no-op, so callers may always
decode. Both backends use the same encoding so the stored form is one thing to reason
about (docs/storage.md).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

ENCODING = "lse-esc-1"
MARK = "\ue000lse1"
_STR = MARK + "s:"
_FLOAT = MARK + "f:"

# On the JSON text (ensure_ascii=False): an escaped NUL, a raw surrogate, the mark.
# A false positive (a literal backslash-u0000 in the data) only costs a slow path.
_SUSPECT_TEXT = re.compile("\\\\u0000|[\ud800-\udfff]|\ue000")
_NEEDS_ESCAPE = re.compile("[\x00\ud800-\udfff]")
_ESCAPE_CHARS = re.compile("[\\\\\x00\ud800-\udfff]")
_UNESCAPE = re.compile(r"\\(\\|0|u[0-9a-f]{4})")
_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_for_storage(value: Any) -> tuple[str, bool]:
    """JSON text of `value` safe for JSONB, and whether anything had to be escaped.

    Fast path: one C-level `json.dumps` and one regex scan of the text; the walk only
    runs for the rare value that needs it.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # NaN / Infinity somewhere
        text = None
    if text is not None and not _SUSPECT_TEXT.search(text):
        return text, False
    escaped = _encode(value)
    return json.dumps(escaped, ensure_ascii=False, allow_nan=False, separators=(",", ":")), True


def encode_value(value: Any) -> tuple[Any, bool]:
    """`value` with every unstorable string/float marked, and whether any was."""
    text, escaped = encode_for_storage(value)
    return (json.loads(text) if escaped else value), escaped


def encode_text(value: str | None) -> tuple[str | None, bool]:
    """One string for a text column (PostgreSQL text refuses U+0000 too)."""
    if value is None or not (_NEEDS_ESCAPE.search(value) or value.startswith(MARK)):
        return value, False
    return _escape_str(value), True


def decode_stored(value: Any) -> Any:
    """The exact original of a value stored by `encode_for_storage` (or stored plain)."""
    if isinstance(value, str):
        return _decode_str(value)
    if isinstance(value, dict):
        return {_decode_str(k): decode_stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_stored(v) for v in value]
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, str):
        return _escape_str(value) if _NEEDS_ESCAPE.search(value) or value.startswith(MARK) else value
    if isinstance(value, float) and not math.isfinite(value):
        return _FLOAT + ("NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {(_encode(k) if isinstance(k, str) else k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch == "\\":
        return "\\\\"
    if ch == "\x00":
        return "\\0"
    return f"\\u{ord(ch):04x}"


def _escape_str(value: str) -> str:
    return _STR + _ESCAPE_CHARS.sub(_escape_char, value)


def _unescape_char(m: re.Match[str]) -> str:
    tok = m.group(1)
    if tok == "\\":
        return "\\"
    if tok == "0":
        return "\x00"
    return chr(int(tok[1:], 16))


def _decode_str(value: str) -> Any:
    if not value.startswith(MARK):
        return value
    if value.startswith(_STR):
        return _UNESCAPE.sub(_unescape_char, value[len(_STR) :])
    if value.startswith(_FLOAT):
        return _FLOATS[value[len(_FLOAT) :]]
    return value
