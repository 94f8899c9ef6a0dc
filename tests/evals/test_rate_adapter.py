"""The rate budget and adapter, on a virtual clock: what a 429 and the x-ratelimit-* report
do to the next starts. Defect under test: a `reset` (time until the bucket is *full*)
read as "pause every worker until then" stalled a run for up to a minute."""

from __future__ import annotations

import threading
import time

import pytest

from lse.evals.rate import RateAdapter, RateBudget
from lse.evals.rate.budget import HEADROOM
from lse.evals.rate.schedule import LocalSchedule


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _budget(clock: Clock) -> RateBudget:
    return RateBudget(LocalSchedule(clock))


# the 429: the next request is allowed in 200 ms; the bucket is full again in 59.7 s
STORM_429 = {
    "retry-after-ms": "200",
    "retry-after": "1",
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "59.7s",
}


def test_a_429_holds_starts_for_its_retry_after_ms_never_until_the_reset() -> None:
    clock = Clock()
    budget = _budget(clock)
    budget.observe(STORM_429, refused_wait_s=0.2)
    assert budget.rate["requests"] == pytest.approx(10000 / 59.7)  # limit ÷ window, not a pause
    first = budget.reserve()
    assert first == pytest.approx(0.2, abs=1e-6)  # exactly what the provider asked
    # the bucket is empty: the calls after it are paced at the refill rate, not stalled
    later = [budget.reserve() for _ in range(5)]
    interval = 1 / (HEADROOM * 10000 / 59.7)
    assert later == pytest.approx([0.2 + interval * (i + 1) for i in range(5)], abs=1e-6)
    clock.t += 1.0
    assert budget.reserve() == 0.0  # a second later nothing waits


def test_an_exhausted_bucket_in_a_successful_answer_paces_instead_of_pausing() -> None:
    clock = Clock()
    budget = _budget(clock)
    budget.observe({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "soon"})
    assert budget.reserve() == 0.0  # "soon" is nothing we can read
    budget.observe(
        {
            "x-ratelimit-limit-tokens": "90000",
            "x-ratelimit-remaining-tokens": "0",
            "x-ratelimit-reset-tokens": "1m30s",
        },
        tokens=500,
    )
    assert budget.rate["tokens"] == pytest.approx(1000.0)  # 90,000 tokens per 90 s
    wait = budget.reserve()
    assert 0 < wait <= 500 / (HEADROOM * 1000.0) * 1.01  # one call's worth of tokens, not 90 s


def test_pacing_follows_the_refill_rate_with_at_most_a_second_of_burst() -> None:
    clock = Clock()
    budget = _budget(clock)
    report = {
        "x-ratelimit-limit-requests": "1200",
        "x-ratelimit-remaining-requests": "1180",
        "x-ratelimit-reset-requests": "1s",
    }
    budget.observe(report)
    assert budget.rate["requests"] == pytest.approx(20.0)  # (1200 - 1180) / 1 s
    # what went out before the pace was known may have spent the provider's burst: paced at once
    assert budget.reserve() == pytest.approx(1 / (HEADROOM * 20))
    clock.t += 2.0  # idle: the mirror refills, but never beyond one second's worth
    waits = [budget.reserve() for _ in range(40)]
    burst = sum(1 for w in waits if w == 0.0)
    assert burst == int(HEADROOM * 20)  # one second's worth may go back to back, not the 1,180 left
    gaps = [b - a for a, b in zip(waits[burst:], waits[burst + 1 :], strict=False)]
    assert gaps == pytest.approx([1 / (HEADROOM * 20)] * len(gaps))


def test_a_small_remaining_caps_the_mirror_so_other_clients_on_the_key_are_seen() -> None:
    clock = Clock()
    budget = _budget(clock)
    report = {"x-ratelimit-limit-requests": "600", "x-ratelimit-reset-requests": "500ms"}
    budget.observe({**report, "x-ratelimit-remaining-requests": "595"})  # 10/s
    clock.t += 5.0
    assert budget.reserve() == 0.0  # a full mirror: a second's worth may start at once
    budget.observe({**report, "x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "59.8s"})
    assert budget.rate["requests"] == pytest.approx(10.0)  # someone else on the key spent the rest
    waits = [budget.reserve() for _ in range(4)]
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0  # two left, then paced


def test_window_bounds_in_flight_and_grows_back_additively() -> None:
    a = RateAdapter(4)
    slots = [a.acquire() for _ in range(4)]
    assert a.in_flight == 4 and a.peak_in_flight == 4
    got: list = []
    t = threading.Thread(target=lambda: got.append(a.acquire()))
    t.start()
    time.sleep(0.1)
    assert not got  # the fifth waits for a slot
    a.release(slots[0])
    t.join(2)
    assert got and a.peak_in_flight == 4


def test_only_a_429_the_headers_do_not_explain_cuts_the_window_once_per_epoch() -> None:
    a = RateAdapter(10)
    slots = [a.acquire() for _ in range(6)]
    for slot in slots[:2]:  # the bucket is empty: the budget paces, the window stays
        a.release(slot, rate_limited=True, wait_s=0.001, headers=STORM_429)
    assert a.cuts == 0 and a.window == 10 and a.rate_limited == 2
    cap = {"retry-after-ms": "1", "x-ratelimit-remaining-requests": "9000"}  # room left: a concurrency cap
    for slot in slots[2:5]:  # three refusals of one burst: one cut
        a.release(slot, rate_limited=True, wait_s=0.001, headers=cap)
    assert a.cuts == 1 and a.window == pytest.approx(3.0)  # 3/4 of the 4 in flight with it
    a.release(slots[5])
    assert a.window == pytest.approx(3.0 + 1 / 3.0)


def test_runs_sharing_a_budget_share_its_pace() -> None:
    clock = Clock()
    budget = _budget(clock)
    budget.observe(
        {"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "60s"}
    )
    one, two = RateAdapter(5, budget, clock=clock), RateAdapter(5, budget, clock=clock)
    assert one.rate == two.rate == pytest.approx(HEADROOM)
    # the empty bucket gives both runs together one start per paced interval
    waits = [budget.reserve() for _ in range(4)]
    assert waits == pytest.approx([(i + 1) / HEADROOM for i in range(4)])


def test_a_429_holds_every_worker_for_as_long_as_asked() -> None:
    a = RateAdapter(5)
    a.release(a.acquire(), rate_limited=True, wait_s=0.3)
    t0 = time.monotonic()
    a.acquire()
    assert 0.25 <= time.monotonic() - t0 < 1.0


def test_stop_event_releases_waiters() -> None:
    a = RateAdapter(1)
    a.acquire()
    stop = threading.Event()
    out: list = []
    t = threading.Thread(target=lambda: out.append(a.acquire(stop)))
    t.start()
    stop.set()
    t.join(2)
    assert out == [None]
