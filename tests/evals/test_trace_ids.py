"""Item trace ids: stable for one run, distinct across runs and items, Langfuse-shaped."""

from __future__ import annotations

import hashlib
import re

from lse.evals.trace_ids import item_trace_id


def test_same_seed_and_item_give_the_same_id():
    assert item_trace_id("seed-a", 7) == item_trace_id("seed-a", 7)


def test_other_seed_or_item_give_another_id():
    ids = {item_trace_id(seed, item) for seed in ("seed-a", "seed-b") for item in range(50)}
    assert len(ids) == 100


def test_format_is_langfuse_trace_id():
    tid = item_trace_id("3f1c7e1e-8f0a-4d5e-9a63-0c1f7b2f4a10", 1)
    assert re.fullmatch(r"[0-9a-f]{32}", tid)
    seed = "lse-trace/3f1c7e1e-8f0a-4d5e-9a63-0c1f7b2f4a10/1"
    assert tid == hashlib.sha256(seed.encode()).digest()[:16].hex()
