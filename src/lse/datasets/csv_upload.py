"""Validate and parse an uploaded golden-dataset CSV (question, answer, optional category).

Pure: bytes in, rows out, `ValidationFailed`/`PayloadTooLarge` with a message naming
what to fix. The API and the CLI both call `parse_csv`, so both reject the same files
with the same words.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from lse.errors import PayloadTooLarge, ValidationFailed

MAX_CSV_BYTES = 1024 * 1024
REQUIRED_COLUMNS = ("question", "answer")
OPTIONAL_COLUMNS = ("category",)
DEFAULT_CATEGORY = "Other"  # Kaapi's label for a row without one
MAX_CATEGORY_CHARS = 255
# What browsers, curl and HTTP clients send for a .csv (Windows says vnd.ms-excel; Kaapi
# clients may send text/plain).
CSV_MIME_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "text/x-csv",
        "application/x-csv",
        "text/comma-separated-values",
        "text/x-comma-separated-values",
        "application/vnd.ms-excel",
    }
)


@dataclass(frozen=True)
class CsvRow:
    question: str
    answer: str
    category: str | None = None


@dataclass(frozen=True)
class ParsedCsv:
    rows: list[CsvRow]
    skipped_rows: int = 0
    columns: list[str] = field(default_factory=list)


def check_file_type(filename: str | None, content_type: str | None) -> None:
    if not filename or not filename.lower().endswith(".csv"):
        raise ValidationFailed(f"file must be a .csv file (got {filename!r})", code="invalid_file_type")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime not in CSV_MIME_TYPES:
        raise ValidationFailed(
            f"file must be sent with a CSV content type such as text/csv (got {mime or 'none'!r}); "
            "with curl: -F 'file=@data.csv;type=text/csv'",
            code="invalid_file_type",
        )


def check_size(size: int, limit: int = MAX_CSV_BYTES) -> None:
    if size > limit:
        raise PayloadTooLarge(
            f"CSV file is larger than {limit // 1024} KB; split it into smaller datasets",
            details={"max_bytes": limit},
        )
    if size == 0:
        raise ValidationFailed("CSV file is empty", code="empty_file")


def parse_csv(
    data: bytes,
    filename: str | None = "data.csv",
    content_type: str | None = "text/csv",
    *,
    max_rows: int | None = None,
) -> ParsedCsv:
    """Rows with a non-empty question and answer; blank ones are skipped and counted.

    More than `max_rows` usable rows is refused as soon as the next row is read (413),
    so a hostile file never becomes a long list in memory.
    """
    check_file_type(filename, content_type)
    check_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"CSV file is not valid UTF-8 (byte {exc.start}); save it as UTF-8 and upload again",
            code="invalid_encoding",
        ) from exc
    if not text.strip():
        raise ValidationFailed("CSV file is empty", code="empty_file")
    if "\x00" in text:  # a binary file renamed .csv; PostgreSQL could not store it either
        raise ValidationFailed("CSV file contains NUL bytes: it is not a text CSV", code="invalid_csv")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None) or []
        columns = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ValidationFailed(
                f"CSV is missing required column(s): {', '.join(missing)} "
                f"(found: {', '.join(c for c in columns if c) or 'none'})",
                code="missing_columns",
                details={"missing": missing},
            )
        index = {name: columns.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in columns}
        rows: list[CsvRow] = []
        skipped = 0
        for record in reader:
            if not record:  # a blank line is layout, not a row
                continue
            if not any(cell.strip() for cell in record):
                skipped += 1
                continue

            def cell(name: str, record: list[str] = record) -> str:
                i = index.get(name)
                return record[i].strip() if i is not None and i < len(record) else ""

            question, answer = cell("question"), cell("answer")
            if not question or not answer:
                skipped += 1
                continue
            category = cell("category")
            if len(category) > MAX_CATEGORY_CHARS:
                raise ValidationFailed(
                    f"CSV row {len(rows) + skipped + 2}: category is longer than {MAX_CATEGORY_CHARS} characters",
                    code="invalid_csv",
                )
            if max_rows is not None and len(rows) >= max_rows:
                raise PayloadTooLarge(
                    f"CSV has more than {max_rows:,} usable rows, the most this dataset may hold "
                    "(LSE_DATASET_MAX_ITEMS / duplication_factor); split it into smaller datasets",
                    code="dataset_too_large",
                    details={"max_rows": max_rows},
                )
            rows.append(CsvRow(question, answer, category or DEFAULT_CATEGORY))
    except csv.Error as exc:
        raise ValidationFailed(f"CSV file cannot be parsed: {exc}", code="invalid_csv") from exc
    if not rows:
        raise ValidationFailed(
            f"CSV has no usable rows: every row lacks a question or an answer ({skipped} skipped)",
            code="no_usable_rows",
            details={"skipped_rows": skipped},
        )
    return ParsedCsv(rows=rows, skipped_rows=skipped, columns=columns)
