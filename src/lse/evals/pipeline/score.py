"""The score stage's arithmetic: cosine similarity per item and the run's summary.

"Not scored" is its own state: an item without an output, a ground truth or an embedding
gets `score=None, score_status=not_scored` and a reason — never 0 or NaN — and does not
enter the average.
"""

from __future__ import annotations

import math

import numpy as np

from lse.evals.pipeline.embedding_cache import EmbeddingCache, text_key
from lse.evals.pipeline.records import ItemScore, PlanItem
from lse.evals.pipeline.status import ScoreStatus

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
    avg: float | None = None
    std: float | None = None
    if scores:
        arr = np.asarray(scores, dtype=np.float64)
        avg, std = round(float(arr.mean()), 6), round(float(arr.std()), 6)
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


def score_items(
    pairs: list[tuple[PlanItem, str]],
    unscorable: dict[int, str],
    failures: dict[str, str],
    *,
    gt_cache: EmbeddingCache,
    out_cache: EmbeddingCache,
) -> dict[int, ItemScore]:
    """Every item's score from the cached vectors, or `not_scored` with the reason."""
    scores = {
        item_id: ItemScore(item_id, None, ScoreStatus.NOT_SCORED, reason) for item_id, reason in unscorable.items()
    }
    for item, output in pairs:
        a, b = out_cache.get(output), gt_cache.get(item.answer)
        if a is None or b is None:
            reason = failures.get(text_key(output)) or failures.get(text_key(item.answer)) or "embedding missing"
            scores[item.item_id] = ItemScore(item.item_id, None, ScoreStatus.NOT_SCORED, reason)
            continue
        value = cosine(np.asarray(a), np.asarray(b))
        if value is None:
            scores[item.item_id] = ItemScore(item.item_id, None, ScoreStatus.NOT_SCORED, "zero or mismatched embedding")
        else:
            scores[item.item_id] = ItemScore(item.item_id, value, ScoreStatus.SCORED)
    return scores
