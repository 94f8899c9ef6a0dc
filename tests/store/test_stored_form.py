"""The stored form is reversible and always acceptable to PostgreSQL JSONB and text."""

from __future__ import annotations

import json
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lse.records.jsonl import loads
from lse.store.stored_form import MARK, bracket_counts, decode_stored, encode_for_storage, encode_text, parse_line

# Any text, lone surrogates and U+0000 included (Hypothesis excludes surrogates by default).
any_text = st.text(
    alphabet=st.characters(codec=None, categories=None, exclude_categories=()), max_size=12
) | st.sampled_from(["\x00", "\ud800", "a\udfffb", MARK, MARK + "s:x", "\\0", "\\u0000", "\\"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=20,
)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=False))
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_round_trip_is_exact_and_storable(value):
    text, escaped = encode_for_storage(value)
    text.encode("utf-8")  # no lone surrogate survives
    assert "\\u0000" not in text.replace("\\\\", "")  # no NUL for JSONB
    json.loads(text)  # strict JSON: no NaN tokens
    assert _same(decode_stored(json.loads(text)), value)
    if not escaped:
        assert json.loads(text) == json.loads(json.dumps(value))


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([True, False]))
def test_parse_line_reads_what_the_standard_parser_reads(value, ascii_only):
    """orjson parses most lines; whatever it cannot read exactly as `json.loads` does
    (integers beyond 64 bits, NaN, lone surrogates) must go to the standard parser, and
    a line returned for storing as is must hold nothing that needs escaping."""
    line = json.dumps({"v": value}, ensure_ascii=ascii_only)
    try:
        raw = line.encode("utf-8")
    except UnicodeEncodeError:  # a raw lone surrogate: not a line an archive can hold
        return
    parsed, storable = parse_line(raw)
    assert _same(parsed, json.loads(line))
    if storable is not None:  # stored as is: nothing in it may need escaping
        assert storable == line
        assert encode_for_storage(parsed)[1] is False


def test_parse_line_keeps_big_integers_exact():
    for n in (2**63, 2**64, -(2**63) - 1, 10**30):
        parsed, storable = parse_line(f'{{"n": {n}, "s": "x"}}'.encode())
        assert parsed["n"] == n and type(parsed["n"]) is int and storable is not None


def test_plain_values_are_stored_as_they_are():
    assert encode_for_storage({"a": "b", "n": [1, 2.5, None]}) == ('{"a":"b","n":[1,2.5,null]}', False)


def test_decimals_are_stored_as_numbers_with_every_digit():
    value = {"cost": Decimal("0.000123456789012345678"), "half": 0.5, "big": 1e23}
    text, escaped = encode_for_storage(value)
    assert not escaped  # numbers need no escaping: JSONB and SQLite keep every digit
    assert text == '{"cost":0.000123456789012345678,"half":0.5,"big":100000000000000000000000.0}'
    back = loads(text)
    assert back == value and isinstance(back["cost"], Decimal) and isinstance(back["big"], float)


def test_decimals_marked_by_earlier_versions_still_decode():
    """Rows written before numbers were stored as numbers hold MARK + "d:" + digits."""
    assert decode_stored({"cost": MARK + "d:0.000123456789012345678"}) == {"cost": Decimal("0.000123456789012345678")}
    assert decode_stored(MARK + "d:0.5") == 0.5 and isinstance(decode_stored(MARK + "d:0.5"), float)


def test_text_columns():
    stored, escaped = encode_text("bad\x00comment")
    assert escaped and "\x00" not in stored and decode_stored(stored) == "bad\x00comment"
    assert encode_text("fine") == ("fine", False)
    assert encode_text(None) == (None, False)


@given(st.lists(st.binary(max_size=40) | st.text("[{}]x ", max_size=40).map(str.encode), max_size=12))
def test_bracket_counts_count_each_line_alone(lines):
    """The chunk-at-once count the loader's skim checks nesting with is the per-line
    count, empty lines and lines of nothing but brackets included."""
    assert bracket_counts(lines) == [line.count(b"[") + line.count(b"{") for line in lines]
