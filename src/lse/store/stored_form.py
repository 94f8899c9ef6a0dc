"""A reversible encoding that lets any parsed JSON value live in PostgreSQL JSONB and text.

Real traces contain what PostgreSQL refuses: U+0000 in strings (JSONB and text reject
it), lone UTF-16 surrogates (not encodable as UTF-8) and NaN/Infinity floats (not
JSON). Dropping or replacing them would be silent loss, so a value that holds any of
them is stored with those strings and floats rewritten as *marked strings*:

    MARK + "s:" + payload   a string; payload has "\\" -> "\\\\", U+0000 -> "\\0",
                            a lone surrogate -> "\\uXXXX" (lowercase hex)
    MARK + "f:" + token     a float: "NaN", "Infinity" or "-Infinity"
    MARK + "d:" + digits    a Decimal no float represents exactly: only read (earlier
                            versions wrote it; numbers are now stored as JSON numbers)

MARK is the private-use character U+E000 followed by "lse1". Any original string that
already starts with MARK is escaped too, so decoding is unambiguous; dict keys are
treated like strings. The row that holds such a value is marked (`runs.data_encoding`,
`feedback.encoding` = ENCODING) and `decode_stored(value)` gives back the exact
original. Decoding a value that was stored plain is a no-op, so callers may always
decode. Both backends use the same encoding so the stored form is one thing to reason
about (docs/storage.md). Numbers are not escaped: the JSON codec (`lse.records.jsonl`)
writes them with every digit, as JSONB and SQLite keep them (docs/numbers.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from itertools import accumulate
from typing import Any

import numpy as np

from lse.records.jsonl import (
    NonFiniteNumber,
    Scan,
    Skimmer,
    dumps_document,
    loads,
    loads_strict,
    map_json,
    number,
    orjson,
)

ENCODING = "lse-esc-1"
MARK = "\ue000lse1"
_STR = MARK + "s:"
_FLOAT = MARK + "f:"
_DECIMAL = MARK + "d:"

# On the JSON text (ensure_ascii=False): an escaped NUL, a raw surrogate, the mark.
# A false positive (a literal backslash-u0000 in the data) only costs a slow path.
_SUSPECT_TEXT = re.compile("\\\\u0000|[\ud800-\udfff]|\ue000")
_UNSAFE_ESCAPES = ("\\u0000", "\\ud", "\\uD", "\\ue000", "\\uE000")
# The same tokens, in a line's bytes, found in one search.
_UNSAFE_ESCAPE = re.compile(rb"\\u(?:0000|[dD]|[eE]000)")
_POSITIVE_EXPONENT = re.compile(rb"[eE]\+[0-9.]")  # what Scan.positive_exponent finds
_NEEDS_ESCAPE = re.compile("[\x00\ud800-\udfff]")
_ESCAPE_CHARS = re.compile("[\\\\\x00\ud800-\udfff]")
_UNESCAPE = re.compile(r"\\(\\|0|u[0-9a-f]{4})")
_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_for_storage(value: Any, *, finite: bool = False) -> tuple[str, bool]:
    """JSON text of `value` safe for JSONB, and whether anything had to be escaped.

    Fast path: one C-level dump and one scan of the text; the walk only runs for the
    rare value that needs it. `finite=True` promises the value holds no NaN/Infinity
    and no lone surrogate (it came from a strict parse, see `parse_line`), which lets
    orjson do the dump (it would write NaN as null).
    """
    if finite:
        try:
            text = orjson.dumps(value).decode("utf-8")
        except TypeError:  # a Decimal, a big int or a surrogate: the general path decides
            pass
        else:
            if "\\u0000" not in text and "\ue000" not in text and "e+" not in text:
                return text, False
    try:
        plain: str | None = dumps_document(value)
    except ValueError:  # NaN / Infinity
        plain = None
    if plain is not None and not _SUSPECT_TEXT.search(plain):
        return plain, False
    out = dumps_document(_encode(value))
    return out, out != plain


def parse_line(raw: bytes) -> tuple[Any, str | None]:
    """Parse one archive line; also return the line itself when it can be stored as is.

    A line is storable as is when it holds none of what needs escaping — no NaN or
    Infinity token (the strict parse notices them), no U+0000, no surrogate escape
    (lone ones are refused; an emoji's pair only costs the slow path), no MARK — and
    no number JSONB would respell into another value (1e+23 would read back as an
    integer). That is decided with a few substring scans in C, far cheaper than
    serialising the run again. ValueError when the line is not UTF-8 JSON, or nested
    deeper than MAX_NESTING levels.
    """
    text = raw.decode("utf-8")
    scan = Scan(raw)
    finite = True
    try:
        try:
            value = loads_strict(raw, scan)
        except NonFiniteNumber:
            value, finite = loads(raw), False
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_NESTING} levels") from None
    _check_nesting(raw, value)
    if (
        not finite
        or scan.positive_exponent
        or ("\\u" in text and any(token in text for token in _UNSAFE_ESCAPES))
        or (not text.isascii() and "\ue000" in text)
    ):
        return value, None
    return value, text.strip()


def skim_line(raw: bytes, skim: Skimmer) -> tuple[Any, str] | None:
    """`parse_line`'s fast path, for a line stored as is: the fields `skim` reads and the
    line itself; None when `parse_line` must decide (it then gives the same answer a
    full parse would: the line storable or not, or a ValueError)."""
    fields = skim_storable(raw, skim)
    if fields is None:
        return None
    return fields, raw.decode("ascii").strip()


def skim_storable(raw: bytes, skim: Skimmer, brackets: int | None = None) -> Any | None:
    """The fields `skim` reads of a line that is stored as is (as its own bytes: an
    ASCII line is its UTF-8 text), or None when `parse_line` must decide.

    The checks are `parse_line`'s, on bytes: an ASCII line (the archive writes them so)
    holds no MARK; a NaN or Infinity token fails the skim; no unsafe escape, no
    positive exponent; and no more brackets than MAX_NESTING, so nesting cannot be too
    deep (`brackets`: the line's count, when the caller has it from `bracket_counts`).
    Each check starts with the cheapest scan that can rule it out (a byte found by
    memchr), as most lines hold no backslash or plus sign at all.
    """
    if (
        (b"\\" in raw and _UNSAFE_ESCAPE.search(raw))
        or (b"+" in raw and _POSITIVE_EXPONENT.search(raw))
        or (_brackets(raw) if brackets is None else brackets) > MAX_NESTING
    ):
        return None
    return skim(raw)


def bracket_counts(lines: Sequence[bytes]) -> list[int]:
    """How many `[` and `{` each line holds (the bound on its nesting that
    `skim_storable` checks), for many lines at once: numpy counts them in one pass over
    the lines joined, twice as fast as two `bytes.count` per line, which were a sixth
    of preparing a run."""
    joined = np.frombuffer(b"".join(lines), np.uint8)
    at = ((joined | 0x20) == ord("{")).nonzero()[0]  # "[" is 0x5B, "{" 0x7B: no other byte ORs to 0x7B
    before_end = at.searchsorted(np.fromiter(accumulate(map(len, lines)), np.int64, len(lines)))
    before_end[1:] -= before_end[:-1].copy()  # less the brackets before the previous line's end
    counts: list[int] = before_end.tolist()
    return counts


def _brackets(raw: bytes) -> int:
    return raw.count(b"[") + raw.count(b"{")


# Deepest nesting stored (the run object counts as one level). Every path that reads a
# stored run back — the loader's merge, verify, the API and datasets through
# SQLAlchemy's JSON deserialiser — recurses once per level under Python's recursion
# limit (1,000 frames, less what is already on the stack), so the limit is set where
# all of them still have room. Real traces are nowhere near it.
MAX_NESTING = 800


def _check_nesting(raw: bytes, value: Any) -> None:
    """ValueError when `value` is nested deeper than MAX_NESTING. Counting brackets in
    the raw line (in C) bounds the depth from above, so the walk runs only for the rare
    line with that many of them."""
    if _brackets(raw) <= MAX_NESTING:
        return
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ValueError(f"nested deeper than {MAX_NESTING} levels")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def encode_value(value: Any) -> tuple[Any, bool]:
    """`value` with every unstorable string/float marked, and whether any was."""
    text, escaped = encode_for_storage(value)
    return (loads(text) if escaped else value), escaped


def holds_unstorable(value: str) -> bool:
    """Whether `value` holds U+0000 or a lone surrogate, which no text column stores as is."""
    if value.isascii():  # known without a scan: ids are nearly always ASCII
        return "\x00" in value
    return _NEEDS_ESCAPE.search(value) is not None


def encode_text(value: str | None) -> tuple[str | None, bool]:
    """One string for a text column (PostgreSQL text refuses U+0000 too)."""
    if value is None or (value.isascii() and "\x00" not in value):
        return value, False  # the usual text, known without a regex: MARK and surrogates are not ASCII
    if not (_NEEDS_ESCAPE.search(value) or value.startswith(MARK)):
        return value, False
    return _escape_str(value), True


def comparable_json(value: Any) -> str:
    """A text that is equal for equal values: keys sorted, NaN equals NaN, -0.0 equals
    0.0 (JSONB and SQLite's REAL drop the sign of a zero). Numbers need no other
    forgiveness: every reader gets them from one codec, so a float and a Decimal never
    stand for the same number."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=_comparable)
    if "-0.0" in text:  # rare: the walk only runs then
        text = json.dumps(map_json(value, _unsigned_zero), sort_keys=True, ensure_ascii=False, default=_comparable)
    return text


def _comparable(value: Any) -> Any:
    return f"{type(value).__name__}({value})"  # Decimals, datetimes and other values from columns


def _unsigned_zero(value: Any) -> Any:
    return 0.0 if isinstance(value, float) and value == 0 else value


def decode_stored(value: Any) -> Any:
    """The exact original of a value stored by `encode_for_storage` (or stored plain)."""
    return map_json(value, _decode_leaf, _decode_str)


def _decode_leaf(value: Any) -> Any:
    return _decode_str(value) if isinstance(value, str) else value


def _encode(value: Any) -> Any:
    return map_json(value, _encode_leaf, _encode_str)


def _encode_str(value: str) -> str:
    return _escape_str(value) if _NEEDS_ESCAPE.search(value) or value.startswith(MARK) else value


def _encode_leaf(value: Any) -> Any:
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, Decimal) and not value.is_finite():
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return _FLOAT + ("NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity")
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
    if value.startswith(_DECIMAL):  # written by earlier versions; read under today's number policy
        return number(value[len(_DECIMAL) :])
    return value
