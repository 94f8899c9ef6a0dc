"""Cost from reported usage (failed and retried attempts included) and the scoring edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lse.evals.fast.responses_stage import _outcome
from lse.evals.pipeline.caller import CallOutcome
from lse.evals.pipeline.cost import run_cost, stage_cost
from lse.evals.pipeline.records import PlanItem
from lse.evals.pipeline.score import cosine, summarize
from lse.providers.responses import ResponseCall
from lse.providers.usage import Usage


def test_a_failed_response_that_reported_usage_is_billed() -> None:
    call = ResponseCall(
        "resp_1",
        "",
        "failed",
        Usage(100, 20, 50, 30, requests=1),
        {},
        "response failed: server_error",
        "response_failed",
    )
    earlier = Usage(40, 0, 10, 0, requests=1)  # a retried attempt that reported usage too
    rec = _outcome(PlanItem(1, 0, "q", "a"), CallOutcome(call, None, None, 2, earlier), started=0.0)
    assert rec.status == "failed" and rec.error_code == "response_failed"
    u = rec.usage
    assert (u.input_tokens, u.cached_tokens, u.output_tokens, u.reasoning_tokens) == (140, 20, 60, 30)
    cost = stage_cost("gpt-4o-mini", Usage(u.input_tokens, u.cached_tokens, u.output_tokens, u.reasoning_tokens))
    assert cost["cost_usd"] == pytest.approx((120 * 0.15 + 20 * 0.075 + 60 * 0.60) / 1e6)


def test_an_unpriced_model_makes_the_total_unknown_not_zero() -> None:
    total = run_cost(stage_cost("house-model", Usage(10, 0, 10)), stage_cost("text-embedding-3-small", Usage(10)))
    assert total["responses"]["cost_usd"] is None and total["total_cost_usd"] is None
    priced = run_cost(stage_cost("gpt-4o", Usage(10, 0, 10)), stage_cost("text-embedding-3-small", Usage(10)))
    assert priced["total_cost_usd"] == pytest.approx(priced["responses"]["cost_usd"] + priced["embeddings"]["cost_usd"])


def test_cosine_refuses_what_it_cannot_score() -> None:
    assert cosine(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(1.0)
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(0.0)
    assert cosine(np.zeros(3), np.ones(3)) is None
    assert cosine(np.ones(3), np.ones(4)) is None
    assert cosine(np.array([np.nan, 1.0]), np.ones(2)) is None


def test_summary_with_no_pairs_is_null_not_zero_or_nan() -> None:
    s = summarize([], not_scored=3, embedding_model="m")["summary_scores"][0]
    assert s["avg"] is None and s["std"] is None and s["total_pairs"] == 0 and s["not_scored"] == 3
    s = summarize([0.5, 1.0], not_scored=0, embedding_model="m")["summary_scores"][0]
    assert s["avg"] == 0.75 and s["std"] == 0.25 and not math.isnan(s["avg"])
