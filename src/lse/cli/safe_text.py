"""Tenant text made safe for the operator's terminal.

Dataset names, config names, questions and model outputs are written by tenants (or
models). Rich would read `[/]` or `[link=…]` in them as markup (breaking the table or
faking its content), and an escape sequence would reach the terminal itself (moving the
cursor, retitling the window, hiding text). `safe(value)` returns a Rich `Text` — never
parsed as markup — with every control character (C0 but tab and newline, DEL, C1) and
every bidirectional override shown as a visible `\\xNN` / `\\uNNNN` escape.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: Any) -> str:
    """`value` as text with control characters escaped (for text that Rich will not parse)."""
    return _UNSAFE.sub(_escape, "" if value is None else str(value))


def safe(value: Any) -> Text:
    """`value` as a Rich Text cell: no markup, no terminal control characters."""
    return Text(plain(value))
