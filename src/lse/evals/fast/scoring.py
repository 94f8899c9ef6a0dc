"""Stage 3: cosine similarity per item and the run's summary.

"Not scored" is its own state: an item without an output, a ground truth or an embedding
gets `score=None, score_status="not_scored"` and a reason — never 0 or NaN — and does not
enter the average.
"""

from __future__ import annotations

import math

import numpy as np

METRIC = "cosine_similarity"


def cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        return None
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0 or not math.isfinite(na) or not math.isfinite(nb):
        return None
    value = float(np.dot(a, b) / (na * nb))
    if not math.isfinite(value):
        return None
    return max(-1.0, min(1.0, value))


def summarize(scores: list[float], *, not_scored: int, embedding_model: str) -> dict:
    """Kaapi's summary_scores[{name, avg, std, total_pairs, data_type}], and the same figures
    keyed by metric ({"cosine_similarity": {avg, std, total_pairs}}) for direct reads."""
    if scores:
        arr = np.asarray(scores, dtype=np.float64)
        avg, std = round(float(arr.mean()), 6), round(float(arr.std()), 6)
    else:
        avg = std = None
    return {
        "summary_scores": [
            {
                "name": METRIC,
                "avg": avg,
                "std": std,
                "total_pairs": len(scores),
                "not_scored": not_scored,
                "data_type": "NUMERIC",
            }
        ],
        METRIC: {"avg": avg, "std": std, "total_pairs": len(scores), "not_scored": not_scored},
        "embedding_model": embedding_model,
    }
