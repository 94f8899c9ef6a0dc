"""A parser and evaluator for the subset of LangSmith's run filter language lse uses.

    and(gte(start_time, "2026-11-20T00:00:00Z"), lt(start_time, "2026-11-21T00:00:00Z"))
    in(trace_id, ["…", "…"])   has(tags, "production")   eq(is_root, true)   neq(error, null)

Comparators eq, neq, gt, gte, lt, lte, in, has; combinators and, or, not. Times compare
as datetimes, numbers as numbers, ids case-insensitively. A malformed filter raises
`FilterError`, which the server answers with HTTP 400 as LangSmith does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lse.sandbox.langsmith.wire import parse_ts


class FilterError(ValueError):
    """The filter text is not valid in the supported language."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<punct>[(),\[\]])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Call:
    op: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Literal:
    value: Any


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"unexpected character at position {pos}: {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(("lit", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("num") is not None:
            out.append(("lit", Decimal(m.group("num"))))
        elif m.group("ident") is not None:
            out.append(("ident", m.group("ident")))
        else:
            out.append(("punct", m.group("punct")))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, punct: str | None = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise FilterError("unexpected end of filter")
        if punct is not None and tok != ("punct", punct):
            raise FilterError(f"expected {punct!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self) -> Any:
        kind, value = self.take()
        if kind == "lit":
            return Literal(value)
        if kind == "punct" and value == "[":
            items: list[Any] = []
            while self.peek() != ("punct", "]"):
                items.append(self.expr())
                if self.peek() == ("punct", ","):
                    self.take(",")
            self.take("]")
            return Literal([it.value if isinstance(it, Literal) else it for it in items])
        if kind != "ident":
            raise FilterError(f"unexpected {value!r}")
        if self.peek() == ("punct", "("):
            self.take("(")
            args: list[Any] = []
            while self.peek() != ("punct", ")"):
                args.append(self.expr())
                if self.peek() == ("punct", ","):
                    self.take(",")
                elif self.peek() != ("punct", ")"):
                    raise FilterError(f"expected ',' or ')' in {value}(...)")
            self.take(")")
            return Call(value.lower(), tuple(args))
        low = value.lower()
        if low in ("null", "none"):
            return Literal(None)
        if low in ("true", "false"):
            return Literal(low == "true")
        return Field(value)


def parse(text: str) -> Call:
    parser = _Parser(text)
    node = parser.expr()
    if parser.peek() is not None:
        raise FilterError(f"unexpected trailing input: {parser.peek()[1]!r}")  # type: ignore[index]
    if not isinstance(node, Call):
        raise FilterError("a filter must be a call such as eq(field, value)")
    return node


# ---- evaluation ------------------------------------------------------------------------
Getter = Callable[[Any], Any]
TIME_FIELDS = {"start_time", "end_time", "first_token_time"}
ID_FIELDS = {"id", "trace_id", "parent_run_id", "session_id", "reference_example_id"}
LIST_FIELDS = {"tags", "parent_run_ids", "feedback_key", "feedback_score"}
NUMBER_FIELDS = {
    "latency",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_cost",
    "prompt_cost",
    "completion_cost",
}
TEXT_FIELDS = {"name", "run_type", "status", "error"}
BOOL_FIELDS = {"is_root"}
KNOWN = TIME_FIELDS | ID_FIELDS | LIST_FIELDS | NUMBER_FIELDS | TEXT_FIELDS | BOOL_FIELDS


def _coerce(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in TIME_FIELDS:
        try:
            return parse_ts(str(value))
        except ValueError as exc:
            raise FilterError(f"{field} needs an ISO-8601 datetime, got {value!r}") from exc
    if field in NUMBER_FIELDS or field == "feedback_score":
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise FilterError(f"{field} needs a number, got {value!r}") from exc
    if field in BOOL_FIELDS:
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if field in ID_FIELDS:
        return str(value).lower()
    return value if isinstance(value, (str, bool)) else str(value)


def _as_comparable(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in NUMBER_FIELDS or field == "feedback_score":
        return Decimal(str(value))
    if field in ID_FIELDS:
        return str(value).lower()
    return value


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}

Predicate = Callable[[Any], bool]


def compile_filter(text: str, getter: Callable[[Any, str], Any]) -> Predicate:
    """A predicate over rows; `getter(row, field)` reads one field of a row."""
    return _compile(parse(text), getter)


def _compile(node: Call, getter: Callable[[Any, str], Any]) -> Predicate:
    op, args = node.op, node.args
    if op in ("and", "or"):
        subs = [_compile(_need_call(a, op), getter) for a in args]
        if not subs:
            raise FilterError(f"{op}() needs at least one argument")
        return (lambda row: all(p(row) for p in subs)) if op == "and" else (lambda row: any(p(row) for p in subs))
    if op == "not":
        if len(args) != 1:
            raise FilterError("not() takes exactly one argument")
        inner = _compile(_need_call(args[0], op), getter)
        return lambda row: not inner(row)
    if op not in _CMP and op not in ("in", "has"):
        raise FilterError(f"unknown operator {op!r}")
    if len(args) != 2 or not isinstance(args[0], Field) or not isinstance(args[1], Literal):
        raise FilterError(f'{op}() takes a field and a value, e.g. {op}(name, "x")')
    field = args[0].name
    if field not in KNOWN:
        raise FilterError(f"unknown field {field!r}; supported: {', '.join(sorted(KNOWN))}")
    raw = args[1].value
    if op == "in":
        if not isinstance(raw, list):
            raise FilterError('in() takes a list: in(field, ["a", "b"])')
        wanted = {_coerce(field, v) for v in raw}
        if field in LIST_FIELDS:
            return lambda row: any(_as_comparable(field, v) in wanted for v in getter(row, field) or [])
        return lambda row: _as_comparable(field, getter(row, field)) in wanted
    value = _coerce(field, raw)
    if op == "has":
        if field not in LIST_FIELDS:
            raise FilterError(f"has() needs a list field ({', '.join(sorted(LIST_FIELDS))})")
        return lambda row: value in [_as_comparable(field, v) for v in getter(row, field) or []]
    cmp = _CMP[op]
    if field in LIST_FIELDS:
        return lambda row: any(_safe(cmp, _as_comparable(field, v), value) for v in getter(row, field) or [])
    if value is None:
        if op not in ("eq", "neq"):
            raise FilterError(f"{op}() cannot compare with null")
        return (lambda row: getter(row, field) is None) if op == "eq" else (lambda row: getter(row, field) is not None)
    return lambda row: _safe(cmp, _as_comparable(field, getter(row, field)), value)


def _safe(cmp: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    """SQL-like: a missing value matches no comparison."""
    if a is None:
        return False
    try:
        return cmp(a, b)
    except TypeError as exc:
        raise FilterError(f"cannot compare {a!r} with {b!r}") from exc


def _need_call(node: Any, op: str) -> Call:
    if not isinstance(node, Call):
        raise FilterError(f"{op}() takes filter expressions as arguments")
    return node
