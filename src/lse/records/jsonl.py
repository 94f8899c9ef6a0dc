"""The one JSON codec of lse: API bodies, archive files and database documents alike.

The number policy (docs/numbers.md): every JSON number is read as its exact value.
An integer literal is an `int`; any other number is a `float` when the float's
shortest spelling (`repr`) is the same decimal — the normal case — and otherwise the
exact `Decimal`, so a cost such as 0.000123456789012345678 keeps every digit. Writing
gives the same values back: a float as its `repr`, a Decimal as its exact digits in
positional notation. Whoever reads a document — from the API, a file or either
database — gets equal values, without a comparison that forgives float vs Decimal.

orjson parses where it gives exactly what the policy says (it is ~3x faster than the
standard parser); the few texts where it might not are recognised by one scan of the
raw bytes and go to the standard parser.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

# A number of at most 15 digits is always the float whose repr spells it (a double
# holds 15 significant decimal digits), so it needs none of the checks below.
_SHORT = 15


def number(text: str) -> float | Decimal:
    """A non-integer JSON number under the policy: the float if its repr is this
    decimal, else the exact Decimal (also for numbers beyond a float's range)."""
    value = float(text)
    if (len(text) <= _SHORT and "e" not in text and "E" not in text) or repr(value) == text:
        return value  # the usual cases, decided without Decimals: short, or written by repr
    if math.isfinite(value) and Decimal(repr(value)) == Decimal(text):
        return value
    return Decimal(text)


def decimal_literal(value: Decimal) -> str:
    """The exact digits of a finite Decimal as a JSON number that reads back as this
    Decimal: positional (no exponent, which PostgreSQL would respell) and with a
    fractional part, so it is never taken for an integer."""
    text = format(value, "f")
    return text if "." in text else text + ".0"


class NonFiniteNumber(ValueError):
    """A NaN or Infinity token: not JSON, refused by a strict parse."""


def _refuse_constant(name: str) -> float:
    raise NonFiniteNumber(name)


_LENIENT = json.JSONDecoder(parse_float=number)
_STRICT = json.JSONDecoder(parse_float=number, parse_constant=_refuse_constant)

# One translate of the raw bytes shows the spellings orjson might read differently:
# digits and "." become "0", exponent letters "e", signs stay; anything else is a space.
_NUMBER_CHARS = bytes(
    48 if chr(i) in "0123456789." else i if chr(i) in "+-" else 101 if chr(i) in "eE" else 32 for i in range(256)
)
_LONG_NUMBER = b"0" * (_SHORT + 1)  # more digits than a double holds, or an int beyond 64 bits
_TINY_EXPONENT = b"e-000"  # an exponent of three digits, maybe below a double's full precision
_POSITIVE_EXPONENT = b"e+0"  # how Python and orjson write 1e16 and up
# Those runs also occur in strings (ids, hex digests, dotted orders); on the few lines
# that have one, these find out whether a number (after ":", "," or "[") really does.
_LONG_TOKEN = re.compile(rb"[:,\[]\s*-?[0-9][0-9.]{%d,}" % _SHORT)
_TINY_TOKEN = re.compile(rb"[:,\[]\s*-?[0-9][0-9.]*[eE]-(?:[3-9][0-9]{2}|[0-9]{4,})")  # 1e-300 and below


class Scan:
    """What one scan of a JSON text says about its numbers (a false positive only
    costs the slower path)."""

    __slots__ = ("orjson_exact", "positive_exponent")

    def __init__(self, raw: bytes):
        numbers = raw.translate(_NUMBER_CHARS)
        self.orjson_exact = not (
            (_LONG_NUMBER in numbers and _LONG_TOKEN.search(raw))
            or (_TINY_EXPONENT in numbers and _TINY_TOKEN.search(raw))
        )
        self.positive_exponent = _POSITIVE_EXPONENT in numbers


def _parse(data: str | bytes, decoder: json.JSONDecoder, scan: Scan | None = None) -> Any:
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if (scan or Scan(raw)).orjson_exact:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:  # NaN, lone surrogates, overflow: the standard parser decides
            pass
    return decoder.decode(data if isinstance(data, str) else data.decode("utf-8"))


def loads(data: str | bytes | memoryview) -> Any:
    """Parse JSON under the number policy; NaN and Infinity tokens read as floats (what
    Python writes for them), so no archived line becomes unreadable."""
    return _parse(bytes(data) if isinstance(data, memoryview) else data, _LENIENT)


def loads_strict(raw: bytes, scan: Scan | None = None) -> Any:
    """Parse JSON under the number policy; NonFiniteNumber on a NaN or Infinity token."""
    return _parse(raw, _STRICT, scan)


def dumps_line(obj: Any) -> str:
    """One archive line: ASCII only (lone surrogates and U+0000 survive as escapes),
    NaN/Infinity as Python writes them, Decimals with every digit."""
    return _dumps(obj, ensure_ascii=True, allow_nan=True)


def dumps_document(obj: Any, *, allow_nan: bool = False) -> str:
    """A document for a database: UTF-8, ValueError on NaN/Infinity (not JSON) unless
    `allow_nan` (SQLite keeps the token; JSONB refuses it), and
    every number spelled as PostgreSQL's JSONB spells it back — floats of 1e16 and up
    positionally (JSONB would turn 1e+23 into an integer literal) — so a document reads
    back equal from either database."""
    text = _dumps(obj, ensure_ascii=False, allow_nan=allow_nan)
    if "e+" in text:  # a float of 1e16 or more (or the letters in a string): respell
        text = _dumps(_positional_floats(obj), ensure_ascii=False, allow_nan=allow_nan, positional=True)
    return text


def _dumps(obj: Any, *, ensure_ascii: bool, allow_nan: bool, positional: bool = False) -> str:
    """json.dumps with Decimals spliced in as raw number literals (json has no hook for
    raw output: each becomes a marked string, unquoted afterwards). A Decimal that is
    a float's repr is written as that float, as the policy reads it back."""
    marker = f"\x01{secrets.token_hex(8)}:"
    spliced = False

    def default(o: Any) -> Any:
        nonlocal spliced
        if isinstance(o, Decimal):
            as_float = float(o)
            if not o.is_finite():
                return as_float  # NaN/Infinity: a token, or ValueError without allow_nan
            if Decimal(repr(as_float)) == o and not (positional and abs(as_float) >= 1e16):
                return as_float
            spliced = True
            return marker + decimal_literal(o)
        raise TypeError(f"{type(o).__name__} is not JSON serializable")

    text = json.dumps(obj, ensure_ascii=ensure_ascii, allow_nan=allow_nan, separators=(",", ":"), default=default)
    if spliced:
        text = re.sub(r'"\\u0001' + marker[1:] + r'(-?[0-9.]+)"', r"\1", text)
    return text


def _positional_floats(value: Any) -> Any:
    """`value` with floats of 1e16 and up as the Decimals their repr spells (written positionally)."""
    return map_json(value, _positional_float)


def _positional_float(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1e16:
        return Decimal(repr(value))
    return value


def map_json(value: Any, leaf: Callable[[Any], Any], key: Callable[[str], Any] | None = None) -> Any:
    """A parsed JSON value with `leaf` applied to every scalar and `key` (if given) to
    every string key; lists and tuples become lists. Loops, not comprehensions: one
    stack frame per level of nesting, so the deepest stored documents fit under the
    recursion limit (lse.store.stored_form.MAX_NESTING)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[key(k) if key is not None and isinstance(k, str) else k] = map_json(v, leaf, key)
        return out
    if isinstance(value, (list, tuple)):
        items = []
        for v in value:
            items.append(map_json(v, leaf, key))
        return items
    return leaf(value)
