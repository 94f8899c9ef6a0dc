"""One item as one Langfuse trace, and the scores, through the official SDK.

The trace is a single observation — a generation carrying the question, the answer,
the model, the usage and lse's own cost — so it reaches Langfuse whole or not at all:
there is no half-sent trace to repair. It is linked to the run's experiment and to the
dataset item by the SDK's experiment attributes (the same ones its own experiment runner
sets), with the expected answer. Scores go with their stored id and timestamp, which is
what lets Langfuse overwrite rather than duplicate them when they are sent again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from langfuse import Langfuse, LangfuseOtelSpanAttributes
from opentelemetry import trace as otel_trace

from lse.tracing.costs import item_cost
from lse.tracing.ids import ITEM_SCORE, TRACE_NAME
from lse.tracing.run_data import ItemView, RunView

A = LangfuseOtelSpanAttributes


def _model_parameters(run: RunView) -> dict[str, Any] | None:
    params = run.completion.get("params") or {}
    picked = {
        k: v for k, v in params.items() if k not in ("model", "instructions") and isinstance(v, (str, int, float, bool))
    }
    return picked or None


def emit_trace(
    client: Langfuse,
    run: RunView,
    view: ItemView,
    *,
    trace_id: str,
    experiment_id: str,
    experiment_name: str,
    dataset_id: str,
    dataset_item_id: str,
) -> None:
    """Queue the item's trace in the SDK (sent on the next flush)."""
    item = view.item
    cost = item_cost(run.model, run.pricing_tier, view.input_tokens, view.cached_tokens, view.output_tokens)
    metadata: dict[str, Any] = {
        "lse_run_id": run.id,
        "lse_item_id": item.item_id,
        "position": item.position,
        "status": view.status,
        "attempts": view.attempts,
        "response_id": view.response_id,
        "latency_ms": view.latency_ms,
        "reasoning_tokens": view.reasoning_tokens,
        "error_code": view.error_code,
        "pricing": run.pricing_tier,
        "lse_cost_usd": cost.total,
        "lse_model": run.model,
    }
    with client.start_as_current_observation(
        trace_context={"trace_id": trace_id},
        name=TRACE_NAME,
        as_type="generation",
        input={"question": item.question},
        output={"answer": view.output} if view.output is not None else None,
        metadata={k: v for k, v in metadata.items() if v is not None},
        version=f"{run.config_id}@{run.config_version}",
        level="ERROR" if view.status != "succeeded" else None,
        status_message=(view.error or view.status) if view.status != "succeeded" else None,
        # Without lse's cost the model is withheld, so Langfuse cannot price the call itself.
        model=run.model if cost.cost is not None else None,
        model_parameters=_model_parameters(run),
        usage_details=cost.usage,
        cost_details=cost.cost,
    ) as generation:
        otel_trace.get_current_span().set_attributes(
            {
                A.EXPERIMENT_ID: experiment_id,
                A.EXPERIMENT_NAME: experiment_name,
                A.EXPERIMENT_DESCRIPTION: f"lse evaluation run {run.id} ({run.run_mode}) on dataset {run.dataset.name}",
                A.EXPERIMENT_METADATA: json.dumps(run.metadata(), default=str),
                A.EXPERIMENT_DATASET_ID: dataset_id,
                A.EXPERIMENT_ITEM_ID: dataset_item_id,
                A.EXPERIMENT_ITEM_EXPECTED_OUTPUT: json.dumps({"answer": item.answer}, ensure_ascii=False),
                A.EXPERIMENT_ITEM_METADATA: json.dumps({"lse_item_id": item.item_id, "position": item.position}),
                A.EXPERIMENT_ITEM_ROOT_OBSERVATION_ID: generation.id,
            }
        )


def emit_item_score(client: Langfuse, view: ItemView, *, trace_id: str, score_id: str, timestamp: datetime) -> None:
    assert view.score is not None
    client.create_score(
        name=ITEM_SCORE,
        value=float(view.score),
        trace_id=trace_id,
        score_id=score_id,
        timestamp=timestamp,
        data_type="NUMERIC",
    )


def emit_summary_score(
    client: Langfuse, run: RunView, *, experiment_id: str, score_id: str, timestamp: datetime
) -> bool:
    """The run-level cosine summary on the experiment; False when the run has none."""
    summary = run.summary
    if summary is None:
        return False
    client.create_score(
        name=ITEM_SCORE,
        value=float(summary["avg"]),
        dataset_run_id=experiment_id,
        score_id=score_id,
        timestamp=timestamp,
        data_type="NUMERIC",
        comment=f"average over {summary.get('total_pairs')} scored items, std {summary.get('std')}",
        metadata={k: summary.get(k) for k in ("avg", "std", "total_pairs")},
    )
    return True
