"""The loader's fast path for new runs (`rows.skim_run`) prepares exactly what a full
parse of the line prepares: the same stored line, the same columns, the same feedback
rows, byte for byte — or it steps aside and the full parse decides."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import TypedDict

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lse.records.jsonl import Skimmer, dumps_line, loads
from lse.store.batch_merge import prepare
from lse.store.rows import feedback_columns, run_columns, run_id_of, skim_run
from lse.store.stored_form import MARK, parse_line
from lse.store.upsert import encode_feedback, encode_run

DAY = date(2026, 11, 20)

# Below U+0800 no character is written as a surrogate escape, which only the full parse takes.
plain_texts = st.text(st.characters(max_codepoint=0x7FF), max_size=8)
texts = (
    plain_texts | st.text(max_size=8) | st.sampled_from(["", " ", "\x00", "\ud800", MARK, "\\u0000", "e+5", "NaN", "é"])
)
NUMBERS = "0 1 -0.0 0.5 1e5 1E+2 1e+23 2.5e-7 1e-320 1e999 0.1000000000000000055511151231257827"
BIG = "123456789012345678901234567890 18446744073709551616 NaN Infinity -Infinity"
numbers = st.sampled_from(f"{NUMBERS} {BIG}".split())
ids = st.one_of(st.uuids().map(str), st.integers(-3, 3), st.none(), st.sampled_from(["", " ", "a\x00b", "x\ud800"]))
stamps = st.one_of(
    st.none(), st.integers(0, 5), st.sampled_from(["2026-11-20T10:00:00.123456", "2026-11-20T10:00:00Z", "x", ""])
)
leaf = st.one_of(st.none(), st.booleans(), texts, numbers.map(lambda n: ("#num", n)))
documents = st.recursive(leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(texts, c, max_size=3), max_leaves=8)


plain_ids = st.uuids().map(str) | st.sampled_from(["f1", "f2"])
plain_stamps = st.sampled_from(["2026-11-20T10:00:00.123456", "2026-11-20T10:00:00Z", "2026-11-20T09:00:00"])


@st.composite
def plain_records(draw):
    """The common record: string ids and times, any documents and scores."""
    rec = {"id": draw(plain_ids), "key": draw(st.sampled_from(["verdict", "step"]))}
    for name, strategy in (
        ("run_id", plain_ids),
        ("trace_id", plain_ids),
        ("score", numbers.map(lambda n: ("#num", n)) | st.none() | st.booleans()),
        ("value", plain_documents | documents),
        ("comment", plain_texts),
        ("correction", plain_documents | documents),
        ("feedback_source", plain_documents),
        ("source", plain_documents),
        ("created_at", plain_stamps),
        ("modified_at", plain_stamps),
    ):
        if draw(st.booleans()):
            rec[name] = draw(strategy)
    return rec


@st.composite
def records(draw):
    rec = {}
    for name, strategy in (
        ("id", st.one_of(ids, st.sampled_from(["f1", "f2"]))),
        ("run_id", ids),
        ("trace_id", ids),
        ("key", st.one_of(texts, st.integers(0, 2))),
        ("score", st.one_of(documents, numbers.map(lambda n: ("#num", n)))),
        ("value", documents),
        ("comment", st.one_of(texts, st.integers(0, 2))),
        ("correction", documents),
        ("feedback_source", documents),
        ("source", documents),
        ("created_at", stamps),
        ("modified_at", stamps),
        ("extra", documents),
    ):
        if draw(st.booleans()):
            rec[name] = draw(strategy)
    return rec


plain_documents = st.recursive(
    st.none() | st.booleans() | plain_texts | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(plain_texts, c, max_size=3),
    max_leaves=8,
)


@st.composite
def plain_runs(draw):
    """The common run: string ids, a start time, plain records."""
    run = {"id": draw(plain_ids), "trace_id": draw(plain_ids), "parent_run_id": draw(st.none() | plain_ids)}
    run["start_time"] = draw(plain_stamps)
    run["feedback_records"] = draw(st.lists(plain_records(), max_size=3))
    run["inputs"] = draw(plain_documents)
    if draw(st.booleans()):
        run["feedback_fetch_status"] = draw(st.sampled_from(["fetched", "none", "not_fetched"]))
    return run


@st.composite
def odd_runs(draw):
    run = {"id": draw(ids)}
    for name, strategy in (
        ("trace_id", ids),
        ("parent_run_id", ids),
        ("start_time", stamps),
        ("feedback_fetch_status", st.one_of(st.sampled_from(["fetched", "none", "not_fetched", "unknown", "bad"]))),
        (
            "feedback_records",
            st.one_of(st.none(), st.lists(plain_records(), max_size=3), st.lists(records() | documents, max_size=3)),
        ),
        ("inputs", documents),
        ("outputs", documents),
    ):
        if draw(st.booleans()):
            run[name] = draw(strategy)
    return run


runs = plain_runs() | odd_runs()


def _line(run: dict, style: str) -> bytes | None:
    if style == "archive":
        text = dumps_line(run)
    else:
        text = json.dumps(run, ensure_ascii=style == "ascii", indent=1 if style == "spaced" else None)
    # Numbers are drawn as their spelling and spliced in, so the line holds exactly it.
    text = re.sub(r'\[\s*"#num",\s*"([^"]*)"\s*\]', r"\1", text)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None  # a raw lone surrogate: no archive line holds one


def _full(raw: bytes) -> tuple:
    """What the loader prepared before the fast path: a full parse of the line."""
    run, line = parse_line(raw)
    cols = run_columns(run, "p", DAY)
    row = encode_run(cols, run, line)
    fbs = [encode_feedback(fb, finite=line is not None) for fb in feedback_columns(run, "p", DAY, cols)]
    return run_id_of(run), line, repr(row), [repr(f) for f in fbs]


def _fast(raw: bytes) -> tuple | None:
    skimmed = skim_run(raw)
    if skimmed is None:
        return None
    run, line = skimmed
    cols = run_columns(run, "p", DAY)
    row = encode_run(cols, run, line)
    fbs = [encode_feedback(fb, finite=True) for fb in feedback_columns(run, "p", DAY, cols)]
    return run_id_of(run), line, repr(row), [repr(f) for f in fbs]


def _outcome(fn, raw):
    try:
        return fn(raw)
    except ValueError as exc:
        return ("error", type(exc).__name__, str(exc))


@settings(max_examples=250, deadline=None)
@given(
    runs,
    st.sampled_from(["archive", "ascii", "utf8", "spaced"]),
    st.integers(-40, 40),
    st.sampled_from(["", "x", "}", ",", '"', "\\"]),
)
@example(
    {"id": "r", "feedback_records": [{"id": "f", "score": ("#num", "0.1000000000000000055511151231257827")}]},
    "archive",
    0,
    "",
)
@example({"id": "r", "x": ("#num", "1e+23")}, "archive", 0, "")
@example({"id": "r", "x": ("#num", "123456789012345678901234567890")}, "archive", 0, "")
@example(
    {"id": "r", "feedback_records": [{"id": "f"}, {"id": "f", "modified_at": "2026-11-20T10:00:00Z"}]}, "ascii", 0, ""
)
def test_the_fast_path_prepares_what_the_full_parse_prepares(run, style, cut, insert):
    raw = _line(run, style)
    if raw is None:
        return
    if cut > 0:  # damage the line: the fast path must refuse whatever the full parse refuses
        at = len(raw) * cut // 41
        raw = raw[:at] + insert.encode() + raw[at + (1 if insert else 0) :]
    fast, full = _outcome(_fast, raw), _outcome(_full, raw)
    if fast is None:
        return  # stepped aside: the full parse decides
    assert fast == full
    assert full[1] is not None  # only lines stored as they are take the fast path


def test_typical_archive_lines_take_the_fast_path():
    """The common line — ASCII, string ids, feedback records with documents — is skimmed."""
    run = {
        "id": "r1",
        "trace_id": "r1",
        "parent_run_id": None,
        "start_time": "2026-11-20T10:00:00.5",
        "inputs": {"q": "où? \x00"},  # written as escapes; U+0000 would need escaping
        "total_cost": Decimal("0.000123456789012345678"),
        "feedback_fetch_status": "fetched",
        "feedback_records": [
            {
                "id": "f1",
                "key": "verdict",
                "score": 1,
                "value": {"verdict": "PASS", "rationale": {"a": True}},
                "feedback_source": {"type": "app"},
                "created_at": "2026-11-20T11:00:00",
            }
        ],
    }
    plain = {k: v for k, v in run.items() if k != "inputs"}
    assert skim_run(dumps_line(plain).encode()) is not None
    assert skim_run(dumps_line(run).encode()) is None  # \u0000: escaped, so parsed whole
    prepared, bad = prepare([(1, dumps_line(plain).encode())], "p", DAY)
    assert not bad and prepared[0].raw is None
    assert prepared[0].row.data == dumps_line(plain)
    assert prepared[0].feedback[0].value == '{"verdict":"PASS","rationale":{"a":true}}'
    assert loads(prepared[0].row.data)["total_cost"] == Decimal("0.000123456789012345678")


def test_the_skimmer_steps_aside_where_loads_would_not_agree():
    class Fields(TypedDict, total=False):
        id: str | None

    skim = Skimmer(Fields)
    assert skim(b'{"id":"a","x":[1,2]}') == {"id": "a"}
    assert skim(b'{"id":"a","x":NaN}') is None  # not JSON
    assert skim(b'{"id":"a","x":"\xc3\xa9"}') is None  # not ASCII: UTF-8 of skipped strings is not checked
    assert skim(b'{"id":1}') is None  # another type than the shape's
    assert skim(b'{"id":"a","x":' + b"1" * 5000 + b"}") is None  # loads refuses an int that long
    assert skim(b'{"id":"a","i\\u0064":"b"}') == {"id": "b"}  # keys are read as JSON says
