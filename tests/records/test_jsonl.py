"""The one JSON codec: orjson's fast path reads exactly what the standard parser reads
under the number policy (docs/numbers.md), and writing reads back the same values."""

from __future__ import annotations

import json
import math
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lse.records.jsonl import dumps_document, dumps_line, loads, loads_strict, number

number_text = st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)
# Strings that look like numbers to a byte scan: hex ids, dotted orders, exponents.
lookalike = st.from_regex(r"[0-9a-f.\-+eE]{0,30}", fullmatch=True)


def same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(st.lists(number_text, max_size=6), st.lists(lookalike, max_size=4), st.booleans())
@example(["1e-310", "0.12345678901234567", "1e+23"], ["3e-4123", "x.20250906123456789"], False)
def test_fast_path_reads_what_the_standard_parser_reads(numbers, strings, spaced):
    sep = ", " if spaced else ","
    text = (
        "{"
        + sep.join(
            [f'"n{i}":{" " if spaced else ""}{n}' for i, n in enumerate(numbers)]
            + [f'"s{i}":"{s}"' for i, s in enumerate(strings)]
        )
        + "}"
    )
    reference = json.JSONDecoder(parse_float=number).decode(text)
    assert same(loads(text.encode()), reference)
    assert same(loads_strict(text.encode()), reference)


@settings(max_examples=300, deadline=None)
@given(number_text)
def test_writing_reads_back_the_same_value(text):
    value = loads(f"[{text}]")
    for dumped in (dumps_line(value), dumps_document(value)):
        assert same(loads(dumped), value), dumped


def test_the_policy_on_hard_spellings():
    assert loads("[0.1, 1e+23, 3, 0.12345678901234567, 1e400, -0.0]") == [
        0.1,
        1e23,
        3,
        Decimal("0.12345678901234567"),
        Decimal("1e400"),
        -0.0,
    ]
    assert dumps_document([1e23, Decimal("1.5e30")]) == "[100000000000000000000000.0,1500000000000000000000000000000.0]"
    assert dumps_line([1e23, Decimal("0.5")]) == "[1e+23,0.5]"  # the files keep Python's spelling
