"""How a stored run reads to a Kaapi client, beside lse's own fields.

The engine stores lse's shapes (`score.summary_scores` named `cosine_similarity`,
`cost.responses` / `cost.embeddings` with nested usage). A Kaapi client selects the
summary score named "Cosine Similarity", reads `cost.response` / `cost.embedding` with
flat token counts, and asks for per-item results as `score.traces[]` (with
`get_trace_info=true`), optionally grouped by question (`export_format=grouped`). These
functions add Kaapi's keys to what is stored and never remove lse's.

Trace ids are `lse.evals.trace_ids.item_trace_id(run.trace_seed, item_id)`: the same id the
Langfuse and LangSmith exports give the item's trace.
"""

from __future__ import annotations

from typing import Any

from lse.evals.schemas import ItemResultPublic
from lse.evals.trace_ids import item_trace_id

COSINE = "cosine_similarity"
KAAPI_COSINE = "Cosine Similarity"  # the name Kaapi's clients select the summary score by
TRACE_SCORE_DIGITS = 2  # Kaapi rounds per-trace values to 2 decimals; include_results keeps all


def kaapi_score(score: dict[str, Any] | None) -> dict[str, Any] | None:
    """`score` with each summary named as Kaapi names it (lse's `cosine_similarity` key kept)."""
    if not score:
        return score
    out = dict(score)
    summaries = score.get("summary_scores")
    if isinstance(summaries, list):
        out["summary_scores"] = [
            {**s, "name": KAAPI_COSINE} if isinstance(s, dict) and s.get("name") == COSINE else s for s in summaries
        ]
    return out


def _flat(stage: Any) -> dict[str, Any] | None:
    if not isinstance(stage, dict):
        return None
    found = stage.get("usage")
    usage: dict[str, Any] = found if isinstance(found, dict) else {}
    inp, outp = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    return {
        "model": stage.get("model"),
        "input_tokens": inp,
        "output_tokens": outp,
        "total_tokens": inp + outp,
        "cost_usd": stage.get("cost_usd"),
    }


def kaapi_cost(cost: dict[str, Any] | None) -> dict[str, Any] | None:
    """`cost` plus Kaapi's `response` and `embedding` entries (flat token counts, cost_usd)."""
    if not cost:
        return cost
    out = dict(cost)
    for lse_key, kaapi_key in (("responses", "response"), ("embeddings", "embedding")):
        flat = _flat(cost.get(lse_key))
        if flat is not None and kaapi_key not in out:
            out[kaapi_key] = flat
    return out


def _trace_scores(result: ItemResultPublic) -> list[dict[str, Any]]:
    if result.score is None:
        return []
    return [{"name": KAAPI_COSINE, "value": round(result.score, TRACE_SCORE_DIGITS), "data_type": "NUMERIC"}]


def traces(trace_seed: str, results: list[ItemResultPublic]) -> list[dict[str, Any]]:
    """One Kaapi trace per item, in dataset order."""
    return [
        {
            "trace_id": item_trace_id(trace_seed, r.item_id),
            "question_id": r.question_id,
            "question": r.question,
            "llm_answer": r.output,
            "ground_truth_answer": r.expected_answer,
            "category": r.category,
            "scores": _trace_scores(r),
        }
        for r in results
    ]


def grouped_traces(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Kaapi's `grouped_traces`: one entry per question, its duplicates' answers side by side."""
    groups: dict[int, dict[str, Any]] = {}
    for t in rows:
        group = groups.setdefault(
            t["question_id"],
            {
                "question_id": t["question_id"],
                "question": t["question"],
                "ground_truth_answer": t["ground_truth_answer"],
                "category": t["category"],
                "llm_answers": [],
                "trace_ids": [],
                "scores": [],
            },
        )
        group["llm_answers"].append(t["llm_answer"])
        group["trace_ids"].append(t["trace_id"])
        group["scores"].append(t["scores"])
    return [groups[k] for k in sorted(groups)]
