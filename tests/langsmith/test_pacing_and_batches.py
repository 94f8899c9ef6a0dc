from __future__ import annotations

import threading
import time

from lse.langsmith.feedback_query import MAX_RUN_IDS, PAGE_SIZE, expected_records, plan_batches
from lse.langsmith.pacing import Pacer


def test_pacer_spaces_requests_across_threads():
    pacer = Pacer(0.05)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(3):
            pacer.wait()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 9
    # the k-th request may start no sooner than k intervals after the first could; a busy
    # machine only delays a thread after its slot (never before), so this holds under load
    late = [round(stamp - (t0 + k * 0.05), 4) for k, stamp in enumerate(stamps)]
    assert min(late) >= -0.001, late


def test_expected_records_counts_every_key():
    stats = {"final_verdict": {"n": 2, "values": {}}, "tone": {"n": 3, "values": {"ok": 3}}}
    assert expected_records(stats) == 5
    assert expected_records({}) == 0
    assert expected_records(None) == 0


def test_batches_respect_run_and_page_limits():
    runs = [(f"r{i}", 1) for i in range(250)] + [("big", 250)] + [(f"s{i}", 3) for i in range(40)]
    batches = plan_batches(runs)
    assert [rid for b in batches for rid in b.run_ids] == [rid for rid, _ in runs]
    for b in batches:
        assert len(b.run_ids) <= MAX_RUN_IDS
        assert b.expected < PAGE_SIZE or len(b.run_ids) == 1
    # packing is tight: 250 single-record runs need 3 batches (99 + 99 + 52)
    assert len(batches[0].run_ids) == 99
