"""The rate adapter: shared pauses, AIMD window, pacing from headers, one cut per epoch."""

from __future__ import annotations

import threading
import time

from lse.evals.rate_adapter import RateAdapter


def test_reset_headers_pause_and_unreadable_ones_are_ignored() -> None:
    clock = [100.0]
    a = RateAdapter(2, clock=lambda: clock[0])
    a.release(a.acquire(), headers={"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "soon"})
    assert a._paused_until == 0.0  # "soon" is no wait we can honour
    a.release(a.acquire(), headers={"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1m30s"})
    assert a._paused_until == 100.0 + 60.0  # capped at max_pause_s
    assert a.in_flight == 0


def test_window_bounds_in_flight_and_grows_back_additively() -> None:
    a = RateAdapter(4)
    starts = [a.acquire() for _ in range(4)]
    assert a.in_flight == 4 and a.peak_in_flight == 4
    got: list[float] = []
    t = threading.Thread(target=lambda: got.append(a.acquire()))
    t.start()
    time.sleep(0.1)
    assert not got  # the fifth waits for a slot
    a.release(starts[0])
    t.join(2)
    assert got and a.peak_in_flight == 4


def test_a_429_cuts_once_per_epoch_and_paces_from_headers() -> None:
    a = RateAdapter(10)
    s = [a.acquire() for _ in range(6)]
    # the provider refills one request per 50 ms: limit 1, remaining 0, reset 50ms
    headers = {
        "x-ratelimit-limit-requests": "1",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "50ms",
    }
    for start in s[:3]:  # three 429s of one burst: one cut
        a.release(start, rate_limited=True, wait_s=0.05, headers=headers)
    assert abs(a.provider_rate - 20.0) < 1e-6
    assert a.cuts == 1 and a.rate_limited == 3
    assert abs(a.rate - 0.93 * 20.0) < 1e-6
    assert a.window < 10
    for start in s[3:]:
        a.release(start)
    # pacing: the next starts are ~1/rate apart
    t0 = time.monotonic()
    starts = [a.acquire() for _ in range(4)]
    assert starts[-1] - t0 >= 3 / 18.6 * 0.9
    # a 429 while pacing under the refill rate is jitter: no cut, the rate stays
    a.release(starts[0], rate_limited=True, wait_s=0.002, headers=headers)
    assert a.cuts == 1 and abs(a.rate - 18.6) < 1e-6
    # a 429 that is not about the request rate (a concurrency cap) does cut the window
    window = a.window
    a.release(starts[1], rate_limited=True, wait_s=0.1, headers={"retry-after-ms": "100"})
    assert a.cuts == 2 and a.window < window


def test_a_pause_holds_every_worker() -> None:
    a = RateAdapter(5)
    s = a.acquire()
    a.release(s, rate_limited=True, wait_s=0.3)
    t0 = time.monotonic()
    a.acquire()
    assert time.monotonic() - t0 >= 0.25


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
