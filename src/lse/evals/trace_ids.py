"""Stable trace ids for the items of an evaluation run.

An item's trace id is what a Kaapi client reads as `score.traces[].trace_id`, and the id
its trace gets in Langfuse (and the key of its LangSmith export). It is derived, never
drawn: the same (run seed, item) always gives the same id, so reading a run twice or
exporting it again names the same traces. The seed is random per run and stored with it
(`evaluation_runs.trace_seed`), so ids of two runs, two databases or two deployments never
collide. The format is Langfuse's: 32 lower-case hex digits, the first 16 bytes of
SHA-256 of the seed string (what `Langfuse.create_trace_id(seed=...)` computes).
"""

from __future__ import annotations

import hashlib


def item_trace_id(trace_seed: str, item_id: int) -> str:
    """The trace id of dataset item `item_id` in the run whose seed is `trace_seed`."""
    seed = f"lse-trace/{trace_seed}/{item_id}"
    return hashlib.sha256(seed.encode("utf-8")).digest()[:16].hex()
