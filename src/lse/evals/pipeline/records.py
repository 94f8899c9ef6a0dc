"""What flows between the stages: the run's plan, one outcome per item, one score per item.

Typed and built by keyword, so a stage reads `outcome.output`, never `record[2]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lse.evals.pipeline.status import ItemStatus, ScoreStatus
from lse.providers.usage import Usage


@dataclass(frozen=True)
class PlanItem:
    item_id: int
    position: int
    question: str
    answer: str


@dataclass(frozen=True)
class RunPlan:
    run_id: int
    dataset_id: int
    run_mode: str
    completion: dict[str, Any]  # {"provider", "type", "params": {...}}
    items: list[PlanItem]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.completion.get("params") or {})

    @property
    def model(self) -> str | None:
        return self.params.get("model")


@dataclass(frozen=True, kw_only=True)
class ItemOutcome:
    """One item's answer (or failure) as stored: the resume point, whatever produced it."""

    item_id: int
    status: ItemStatus
    output: str | None = None
    error: str | None = None
    error_code: str | None = None
    usage: Usage = field(default_factory=Usage)  # every attempt that reported usage (billed)
    latency_ms: float | None = None
    attempts: int = 0
    response_id: str | None = None
    score: float | None = None
    score_status: ScoreStatus = ScoreStatus.NOT_SCORED

    @property
    def succeeded(self) -> bool:
        return self.status is ItemStatus.SUCCEEDED

    # the token columns as the item row stores them
    @property
    def input_tokens(self) -> int:
        return self.usage.input_tokens

    @property
    def cached_tokens(self) -> int:
        return self.usage.cached_tokens

    @property
    def output_tokens(self) -> int:
        return self.usage.output_tokens

    @property
    def reasoning_tokens(self) -> int:
        return self.usage.reasoning_tokens

    @classmethod
    def failed(cls, item_id: int, error: str, code: str, **fields: Any) -> ItemOutcome:
        return cls(item_id=item_id, status=ItemStatus.FAILED, error=error, error_code=code[:64], **fields)


@dataclass(frozen=True)
class ItemScore:
    item_id: int
    score: float | None
    status: ScoreStatus
    reason: str | None = None  # why it is not scored


def counts(plan: RunPlan, outcomes: dict[int, ItemOutcome]) -> tuple[int, int]:
    """(succeeded, failed) over the plan's items; an item without an outcome counts as failed."""
    ok = sum(1 for i in plan.items if (o := outcomes.get(i.item_id)) is not None and o.succeeded)
    return ok, len(plan.items) - ok


def total_usage(outcomes: list[ItemOutcome]) -> Usage:
    """Tokens of every item, and one request per attempt."""
    total = Usage()
    for o in outcomes:
        u = o.usage
        total.add(Usage(u.input_tokens, u.cached_tokens, u.output_tokens, u.reasoning_tokens, requests=o.attempts))
    return total
