"""The number policy, end to end (docs/numbers.md): a number as the API spelled it reads
back as one exact value — from the parsed response, the archive file and either
database, through the loader's first load and its merge — compared with `==` and by
type, never by a comparison that forgives float vs Decimal."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lse.archive.reader import iter_stored_runs
from lse.archive.writer import write_runs
from lse.records.jsonl import loads
from lse.store.engine import get_engine
from lse.store.loader import load_day
from lse.store.models.archive import FeedbackRow, RunRow
from lse.store.stored_form import decode_stored
from lse.store.verify import verify_day

DAY = date(2026, 11, 20)
_projects = itertools.count()

# JSON number literals as an API may spell them: long mantissas, exponents either way.
number_text = st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)
HARD = [
    "1e+23",  # PostgreSQL respells it as an integer literal
    "1E23",
    "1.5e30",
    "0.12345678901234567",  # 17 digits: no float spells it
    "1.00000000000000011",
    "123456789012345678901234",  # an int beyond 64 bits
    "1e-400",  # below a double's range
    "1e400",  # above it
    "-0.0",
    "2.5e-06",
    "0.10",
]


def expected(text: str) -> Any:
    """The policy, stated independently: an integer literal is an int; any other number
    is the float whose repr is the same decimal, else the exact Decimal."""
    if all(c in "-0123456789" for c in text):
        return int(text)
    as_float = float(text)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == Decimal(text):
        return as_float
    return Decimal(text)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type, all the way down (1 == 1.0 == Decimal(1) is not enough)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def api_body(run_id: str, numbers: list[str]) -> str:
    """A run and its feedback as the API's JSON text, numbers spelled as generated."""
    listed = ", ".join(numbers)
    first = numbers[0]
    return (
        f'{{"id": "{run_id}", "trace_id": "{run_id}", "parent_run_id": null, "name": "n",'
        f' "start_time": "2026-11-20T10:00:00", "total_cost": {first}, "extra": {{"metrics": [{listed}]}},'
        f' "feedback_stats": {{"k": {{"n": 1}}}}, "feedback_records": [{{"id": "{run_id}-fb", "run_id": "{run_id}",'
        f' "key": "k", "score": {first}, "value": {{"verdict": "PASS", "weights": [{listed}]}},'
        f' "created_at": "2026-11-20T10:00:00", "modified_at": "2026-11-20T10:00:00"}}],'
        f' "feedback_fetch_status": "fetched"}}'
    )


def read_db(engine: Any, run_id: str) -> tuple[Any, Any]:
    with engine.connect() as conn:
        data, encoding = conn.execute(select(RunRow.data, RunRow.data_encoding).where(RunRow.run_id == run_id)).one()
        value, fb_encoding = conn.execute(
            select(FeedbackRow.value, FeedbackRow.encoding).where(FeedbackRow.run_id == run_id)
        ).one()
    return (decode_stored(data) if encoding else data), (decode_stored(value) if fb_encoding else value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(number_text, min_size=1, max_size=6))
@example(HARD)
@example(["1e+23"])
def test_api_to_file_to_database_and_back_is_the_same_value(db_settings, numbers):
    project, run_id = f"p{next(_projects)}", str(uuid.uuid4())
    run = loads(api_body(run_id, numbers))  # what the LangSmith client parses
    assert same(run["extra"]["metrics"], [expected(t) for t in numbers])

    write_runs(db_settings, project, DAY, [run])
    from_file = next(iter_stored_runs(db_settings, project, DAY))
    assert same(from_file, run)

    engine = get_engine(db_settings)
    load_day(db_settings, project, DAY, engine=engine)  # a first load: the line stored as is where it can be
    data, value = read_db(engine, run_id)
    assert same(data, run)
    assert same(value, run["feedback_records"][0]["value"])

    # a newer record: the loader reads the stored run back, merges and writes it again
    newer = {**run["feedback_records"][0], "id": f"{run_id}-fb2", "modified_at": "2026-11-21T10:00:00"}
    write_runs(db_settings, project, DAY, [{**from_file, "feedback_records": [*from_file["feedback_records"], newer]}])
    report = load_day(db_settings, project, DAY, engine=engine)
    assert report.runs_updated == 1
    merged = next(iter_stored_runs(db_settings, project, DAY))
    assert same(read_db_run(engine, run_id), merged)
    report = verify_day(db_settings, project, DAY, engine=engine)
    assert report.ok, (numbers, report.differences)


def read_db_run(engine: Any, run_id: str) -> Any:
    with engine.connect() as conn:
        data, encoding = conn.execute(select(RunRow.data, RunRow.data_encoding).where(RunRow.run_id == run_id)).one()
    return decode_stored(data) if encoding else data
