"""CSV downloads a spreadsheet cannot be tricked by (CSV/formula injection, per OWASP).

A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return would be
read by Excel, LibreOffice or Sheets as a formula, so such a cell gets a leading `'`,
which the spreadsheet shows as text and never evaluates. Numbers this code wrote
itself (scores, token counts) stay numbers: a value that is an int or float is not
text a user typed. Quotes and separators inside cells are the csv module's job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as written: text that would start a formula is prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([neutralise(row.get(c)) for c in columns])
    return buf.getvalue()
