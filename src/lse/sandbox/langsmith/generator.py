"""The ordinary synthetic traffic: traces rooted through each day, some with feedback.

Each trace is a root chain plus N children nested a few levels deep; a child starts no
earlier than its parent and ends no later. Determinism comes from one `random.Random`
per (seed, project, day), so adding a day never changes the runs of another.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from lse.sandbox.langsmith import content
from lse.sandbox.langsmith.records import feedback_json, new_id, roll_up_usage, run_json, set_llm_usage

CRITERIA = ("criteria_a", "criteria_b", "criteria_c", "criteria_d", "decision_factor_1", "decision_factor_2")
MAX_DEPTH = 4


@dataclass(frozen=True)
class TraceContext:
    tenant_id: str
    session_id: str


def build_trace(
    rng: random.Random,
    ctx: TraceContext,
    root_start: datetime,
    n_children: int,
    *,
    duration: timedelta | None = None,
    root_name: str | None = None,
    root_inputs: dict[str, Any] | None = None,
    root_outputs: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Runs of one trace, root first, parents before children."""
    duration = duration if duration is not None else timedelta(milliseconds=rng.randint(500, 60_000))
    root_id = new_id(rng)
    q = content.question(rng)
    inputs, outputs = content.payload(rng, "chain", q)
    root = run_json(
        run_id=root_id,
        name=root_name or rng.choice(content.ROOT_NAMES),
        run_type="chain",
        start=root_start,
        end=root_start + duration,
        trace_id=root_id,
        parent=None,
        session_id=ctx.session_id,
        tenant_id=ctx.tenant_id,
        inputs=root_inputs if root_inputs is not None else inputs,
        outputs=root_outputs if root_outputs is not None else outputs,
        tags=["production", f"variant:{rng.choice('ab')}"],
        metadata={"user_id": f"user-{rng.randint(1, 500)}", "revision_id": "rev-2026.11"},
    )
    runs = [root]
    bounds = {root_id: (root_start, root_start + duration)}
    parents = [root]
    for step in range(n_children):
        parent = rng.choice(parents)
        p_start, p_end = bounds[parent["id"]]
        start = p_start + (p_end - p_start) * rng.uniform(0.0, 0.6)
        end = start + (p_end - start) * rng.uniform(0.1, 1.0)
        run_type = rng.choice(content.CHILD_TYPES)
        child = _child(rng, ctx, parent, run_type, start, end, step)
        runs.append(child)
        bounds[child["id"]] = (start, end)
        if run_type == "chain" and len(child["parent_run_ids"]) < MAX_DEPTH:
            parents.append(child)
    roll_up_usage(runs)
    return runs


def _child(
    rng: random.Random,
    ctx: TraceContext,
    parent: dict[str, Any],
    run_type: str,
    start: datetime,
    end: datetime,
    step: int,
) -> dict[str, Any]:
    inputs, outputs_or_none = content.payload(rng, run_type, content.sentence(rng, 4, 12))
    outputs: dict[str, Any] | None = outputs_or_none
    error = None
    if run_type == "tool" and rng.random() < 0.05:
        error = "ToolException: upstream service timed out after 30s"
        outputs = None
    metadata: dict[str, Any] = {"langgraph_step": step + 1}
    if run_type == "llm":
        provider, model = rng.choice(content.MODELS)
        metadata.update(ls_provider=provider, ls_model_name=model, ls_model_type="chat", ls_temperature=0.0)
    run = run_json(
        run_id=new_id(rng),
        name=rng.choice(content.CHILD_NAMES[run_type]),
        run_type=run_type,
        start=start,
        end=end,
        trace_id=parent["trace_id"],
        parent=parent,
        session_id=ctx.session_id,
        tenant_id=ctx.tenant_id,
        inputs=inputs,
        outputs=outputs,
        error=error,
        tags=[f"seq:step:{step + 1}"],
        metadata=metadata,
    )
    if run_type == "llm":
        first_token = start + (end - start) * 0.2
        set_llm_usage(run, rng.randint(60, 4000), rng.randint(10, 900), first_token)
    return run


def verdict_feedback(
    rng: random.Random, run: dict[str, Any], created_at: datetime, *, passed: bool | None = None, correction: Any = None
) -> dict[str, Any]:
    """The human-verdict record lse's datasets are built from."""
    passed = rng.random() < 0.7 if passed is None else passed
    verdict = "PASS" if passed else "FAIL"
    rationale = {name: rng.random() < (0.8 if passed else 0.35) for name in CRITERIA}
    return feedback_json(
        rng,
        run,
        "final_verdict",
        created_at=created_at,
        score=1 if passed else 0,
        value={"verdict": verdict, "rationale": rationale},
        comment=f"Human verdict: {verdict}",
        correction=correction,
        source_type="app",
        user=rng.randint(1, 5),
    )


def feedback_for_trace(rng: random.Random, runs: list[dict[str, Any]], *, extra_keys: bool) -> list[dict[str, Any]]:
    """Feedback for a trace chosen to carry some: a verdict on the root, sometimes one on a
    child; with `extra_keys` also a numeric and a string-valued key on the root."""
    root = runs[0]
    reviewed = _parse(root["end_time"] or root["start_time"]) + timedelta(minutes=rng.randint(1, 600))
    records = [verdict_feedback(rng, root, reviewed)]
    if len(runs) > 1 and rng.random() < 0.25:
        child = rng.choice(runs[1:])
        records.append(
            feedback_json(
                rng,
                child,
                "step_correct",
                created_at=reviewed + timedelta(seconds=5),
                score=rng.choice((0, 1)),
                source_type="app",
                user=rng.randint(1, 5),
            )
        )
    if extra_keys and rng.random() < 0.5:
        records.append(
            feedback_json(
                rng,
                root,
                "helpfulness",
                created_at=reviewed + timedelta(seconds=9),
                score=round(rng.random(), 2),
                source_type="model",
            )
        )
        records.append(
            feedback_json(
                rng,
                root,
                "category",
                created_at=reviewed + timedelta(seconds=11),
                value=rng.choice(("billing", "shipping", "account")),
                source_type="api",
            )
        )
    return records


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def day_root_starts(rng: random.Random, day: date, count: int) -> list[datetime]:
    """Root start times spread over the day, leaving the minutes around midnight to the
    hard cases so ordinary traces never cross a day boundary."""
    base = datetime.combine(day, time(0, 1))
    span_us = int(timedelta(hours=23, minutes=54).total_seconds() * 1_000_000)
    return sorted(base + timedelta(microseconds=rng.randrange(span_us)) for _ in range(count))


def generate_day(
    rng: random.Random,
    ctx: TraceContext,
    day: date,
    *,
    traces: int,
    children: tuple[int, int],
    feedback_share: float,
    extra_keys: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All ordinary runs and feedback of one project-day."""
    runs: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    for start in day_root_starts(rng, day, traces):
        trace = build_trace(rng, ctx, start, rng.randint(*children))
        runs.extend(trace)
        if rng.random() < feedback_share:
            feedback.extend(feedback_for_trace(rng, trace, extra_keys=extra_keys))
    return runs, feedback
