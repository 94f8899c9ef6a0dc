"""The shared timetable: the Redis schedule books exactly what the in-process one books, and
two processes (two schedules on one key) book from one timetable."""

from __future__ import annotations

import time

import pytest

from lse.evals.rate.budget import budget_key
from lse.evals.rate.schedule import LocalSchedule, RedisSchedule

OPS = [
    ("reserve", 10.0),
    ("configure", "requests", 0.05),
    ("configure", "tokens", 0.001),
    *[("reserve", 10.0)] * 5,
    ("hold", 0.2),
    *[("reserve", 10.0)] * 3,
    ("cap", "requests", 0.0, 1.0),
    ("reserve", 30.0),
    ("cap", "tokens", 5.0, 30.0),
    *[("reserve", 30.0)] * 3,
]


def _run(schedule, ops) -> list[float]:
    waits = []
    for op, *args in ops:
        out = getattr(schedule, op)(*args)
        if op == "reserve":
            waits.append(out)
    return waits


def test_redis_books_what_the_local_schedule_books(redis_url) -> None:
    local = _run(LocalSchedule(), OPS)
    t0 = time.monotonic()
    shared = _run(RedisSchedule(redis_url, budget_key("http://x/v1/responses", "k")), OPS)
    drift = time.monotonic() - t0  # both run on real clocks: allow the time the sequence took
    assert len(shared) == len(local) == 13
    assert shared == pytest.approx(local, abs=0.02 + drift)
    assert local[0] == 0.0 and local[-1] > local[-2] > 0.2  # unpaced, then paced, held and capped


def test_two_processes_book_from_one_timetable(redis_url) -> None:
    key = budget_key("http://x/v1/responses", "k")
    a, b = RedisSchedule(redis_url, key), RedisSchedule(redis_url, key)
    a.configure("requests", 0.1)  # 10/s; the first pace starts from an empty mirror
    waits = [s.reserve(0.0) for s in (a, b, a, b)]
    assert waits == pytest.approx([0.1, 0.2, 0.3, 0.4], abs=0.02)  # interleaved, never twice a slot
    other = RedisSchedule(redis_url, budget_key("http://x/v1/responses", "another key"))
    assert other.reserve(0.0) == 0.0  # another key is another budget
