"""What synthetic world to build: one `SandboxSpec` per project.

A spec is a recipe, not data: the same spec (and seed) always yields the same run ids,
feedback ids and content, so tests can assert on exact values and a demo is repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SandboxSpec:
    """One project and the days it has traces on.

    `children_per_trace` is an inclusive (min, max) range of child runs under each root;
    `feedback_trace_share` is the share of traces that carry feedback;
    `hard_cases` adds the awkward runs and traces named in `World.hard_case_ids`,
    all placed around the first day of `days`.
    """

    project: str = "demo-project"
    days: list[date] = field(default_factory=lambda: [date(2026, 11, 20)])
    traces_per_day: int = 50
    children_per_trace: tuple[int, int] = (0, 6)
    feedback_trace_share: float = 0.3
    seed: int = 7
    hard_cases: bool = True

    def __post_init__(self) -> None:
        lo, hi = self.children_per_trace
        if lo < 0 or hi < lo:
            raise ValueError(f"children_per_trace must be 0 <= min <= max, got {self.children_per_trace}")
        if not 0.0 <= self.feedback_trace_share <= 1.0:
            raise ValueError("feedback_trace_share must be within [0, 1]")
        if not self.days:
            raise ValueError("a spec needs at least one day")


def default_demo_spec(day: date, *, project: str = "demo-project") -> SandboxSpec:
    """The spec the demo and `lse sandbox langsmith` use: one busy day with every hard case."""
    return SandboxSpec(
        project=project,
        days=[day],
        traces_per_day=50,
        children_per_trace=(0, 6),
        feedback_trace_share=0.3,
        seed=7,
        hard_cases=True,
    )
