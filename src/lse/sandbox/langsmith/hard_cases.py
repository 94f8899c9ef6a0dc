"""The awkward runs a real archive meets sooner or later, placed around one day.

Each is named in `World.hard_case_ids` so tests can find it:

- rationale_run / multi_key_run: verdict with rationale plus numeric, string and dict keys
- many_feedback_run: 250 feedback records (pages of 100 when listing feedback); pairs
  share a created_at so the tie-break on id matters
- string_feedback_run: string values tallied in feedback_stats `values`; dict values not
- correction_run: feedback carrying a `correction`
- child_feedback_run (in child_feedback_trace): feedback on a child, not on the root
- midnight_trace: root at 23:59:30, children after midnight (they belong to this day)
- prev_day_trace: root the day before at 23:59:50, child (prev_day_child) just after
  midnight of this day (it belongs to the previous day)
- unicode_run, large_run (~200 KB output), nul_run (NUL and exotic code points),
  deep_run (JSON nested 60 levels), error_run (status "error")
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from lse.sandbox.langsmith.generator import TraceContext, build_trace, verdict_feedback
from lse.sandbox.langsmith.records import feedback_json, new_id, roll_up_usage, run_json, set_llm_usage

UNICODE_TEXT = (
    "Café ☕ naïve résumé — 🚀🔥 👩‍👩‍👧‍👦 🇺🇦 | RTL: مرحبا بالعالم שלום עולם | "
    "CJK: 你好世界 こんにちは 안녕하세요 | math: ∑∫√∞ ≠ ≤"
)
EXOTIC_TEXT = (
    "\ufeffBOM zero\u200bwidth join\u200der \u2028line-sep\u2029para-sep "
    "combining e\u0301 astral \U00010348\U0001f9ec replacement \ufffd noncharacter \uffff del \x7f "
    "bell \x07 tab\tcr\r\n"
)
DEPTH = 60


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": True, "depth": depth}
    for level in range(depth - 1, 0, -1):
        node = {"depth": level, "child": node}
    return node


def _large_text(rng: random.Random, size: int = 200_000) -> str:
    words = ("lorem", "ipsum", "dolor", "sit", "amet", "archive", "trace", "feedback", "ünïcödé", "数据")
    parts: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words)
        parts.append(word)
        length += len(word) + 1
    return " ".join(parts)


def _run(
    rng: random.Random,
    ctx: TraceContext,
    parent: dict[str, Any] | None,
    name: str,
    run_type: str,
    start: datetime,
    end: datetime,
    **kw: Any,
) -> dict[str, Any]:
    run_id = new_id(rng)
    return run_json(
        run_id=run_id,
        name=name,
        run_type=run_type,
        start=start,
        end=end,
        trace_id=parent["trace_id"] if parent else run_id,
        parent=parent,
        session_id=ctx.session_id,
        tenant_id=ctx.tenant_id,
        inputs=kw.pop("inputs", {"input": name}),
        outputs=kw.pop("outputs", {"output": "ok"}),
        **kw,
    )


def _midnight_traces(rng: random.Random, ctx: TraceContext, day: date) -> tuple[list[dict[str, Any]], dict[str, str]]:
    late = datetime.combine(day, time(23, 59, 30))
    root = _run(rng, ctx, None, "midnight_agent", "chain", late, late + timedelta(seconds=90), tags=["production"])
    before = _run(rng, ctx, root, "plan_step", "chain", late + timedelta(seconds=10), late + timedelta(seconds=20))
    after = _run(rng, ctx, root, "ChatOpenAI", "llm", late + timedelta(seconds=40), late + timedelta(seconds=70))
    set_llm_usage(after, 1200, 300, late + timedelta(seconds=45))
    grandchild = _run(
        rng, ctx, before, "lookup_order", "tool", late + timedelta(seconds=12), late + timedelta(seconds=19)
    )
    late_tool = _run(rng, ctx, root, "search_kb", "tool", late + timedelta(seconds=71), late + timedelta(seconds=85))
    midnight = [root, before, grandchild, after, late_tool]
    roll_up_usage(midnight)

    prev = datetime.combine(day - timedelta(days=1), time(23, 59, 50))
    p_root = _run(rng, ctx, None, "overnight_agent", "chain", prev, prev + timedelta(seconds=30), tags=["production"])
    p_child = _run(rng, ctx, p_root, "ChatOpenAI", "llm", prev + timedelta(seconds=15), prev + timedelta(seconds=25))
    set_llm_usage(p_child, 800, 120, prev + timedelta(seconds=16))
    previous = [p_root, p_child]
    roll_up_usage(previous)
    ids = {
        "midnight_trace": root["id"],
        "midnight_child": after["id"],
        "prev_day_trace": p_root["id"],
        "prev_day_child": p_child["id"],
    }
    return midnight + previous, ids


def build_hard_cases(
    rng: random.Random, ctx: TraceContext, day: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """(runs, feedback, ids) of every hard case for `day`."""
    runs: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    slot = datetime.combine(day, time(6, 0))

    def trace(name: str, n_children: int = 2, **kw: Any) -> list[dict[str, Any]]:
        nonlocal slot
        slot += timedelta(minutes=5)
        built = build_trace(rng, ctx, slot, n_children, duration=timedelta(seconds=20), **kw)
        runs.extend(built)
        ids[name] = built[0]["id"]
        return built

    def at(run: dict[str, Any], minutes: float) -> datetime:
        return datetime.fromisoformat(run["end_time"]) + timedelta(minutes=minutes)

    root = trace("rationale_run")[0]
    ids["multi_key_run"] = root["id"]
    feedback += [
        verdict_feedback(rng, root, at(root, 30), passed=True),
        feedback_json(rng, root, "helpfulness", created_at=at(root, 31), score=0.75, source_type="model"),
        feedback_json(rng, root, "category", created_at=at(root, 32), value="billing", source_type="api"),
        feedback_json(
            rng, root, "rubric", created_at=at(root, 33), value={"tone": "polite", "steps": 3}, source_type="api"
        ),
    ]

    root = trace("many_feedback_run", 1)[0]
    feedback.append(verdict_feedback(rng, root, at(root, 5), passed=False))
    for i in range(249):
        feedback.append(
            feedback_json(
                rng,
                root,
                "annotator_score",
                created_at=at(root, 10) + timedelta(seconds=i // 2),
                score=(i % 5) / 4,
                comment=f"annotation #{i}" if i % 3 == 0 else None,
                source_type="app",
                user=1 + i % 7,
            )
        )

    root = trace("string_feedback_run")[0]
    for minute, (key, value) in enumerate(
        [("category", "billing"), ("category", "billing"), ("category", "shipping"), ("sentiment", "positive")]
    ):
        feedback.append(
            feedback_json(
                rng, root, key, created_at=at(root, 20 + minute), value=value, source_type="app", user=minute + 1
            )
        )
    feedback.append(
        feedback_json(rng, root, "rubric", created_at=at(root, 30), value={"tone": "curt"}, source_type="api")
    )

    root = trace("correction_run")[0]
    feedback += [
        verdict_feedback(
            rng, root, at(root, 15), passed=False, correction={"answer": "Refunds take 5–7 business days to appear."}
        ),
        feedback_json(
            rng,
            root,
            "correctness",
            created_at=at(root, 16),
            score=0,
            correction="The order ships from the EU warehouse.",
            source_type="app",
        ),
    ]

    built = trace("child_feedback_trace", 3)
    ids["child_feedback_run"] = built[-1]["id"]
    feedback.append(
        feedback_json(
            rng,
            built[-1],
            "step_correct",
            created_at=at(built[-1], 12),
            score=1,
            comment="right tool, right arguments",
            source_type="app",
        )
    )

    trace(
        "unicode_run",
        1,
        root_inputs={"question": UNICODE_TEXT, "locale": "ar-EG"},
        root_outputs={"answer": UNICODE_TEXT[::-1], "emoji": "✅"},
    )
    trace("large_run", 1, root_outputs={"document": _large_text(rng)})
    trace("nul_run", 1, root_inputs={"text": "before\u0000after", "exotic": EXOTIC_TEXT})
    trace("deep_run", 1, root_inputs={"tree": _nested(DEPTH)})
    error_root = trace("error_run", 1)[0]
    error_root.update(error="ValueError: model returned no choices", status="error", outputs=None)

    night, night_ids = _midnight_traces(rng, ctx, day)
    runs.extend(night)
    ids.update(night_ids)
    feedback.append(verdict_feedback(rng, night[0], at(night[0], 3), passed=True))
    return runs, feedback, ids
