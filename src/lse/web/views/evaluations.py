"""The evaluation pages' figures: items worst first, filters, histogram, two runs compared.

Everything here works on the evaluation service's own models (`RunDetail`,
`ItemResultPublic`), so the viewer shows what the API returns for the same run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from lse.errors import ValidationFailed
from lse.evals.results_csv import RESULT_COLUMNS, to_csv
from lse.evals.schemas import ItemResultPublic, RunDetail, RunPublic
from lse.web.charts import bin_scores, histogram

TERMINAL = ("completed", "failed", "cancelled")
PAGE_SIZE = 200
# the API's result columns plus the category the viewer filters by
CSV_COLUMNS = (*RESULT_COLUMNS[:3], "category", *RESULT_COLUMNS[3:])


def score_avg(run: RunPublic) -> float | None:
    score = run.score or {}
    metric = score.get("cosine_similarity")
    if isinstance(metric, dict) and isinstance(metric.get("avg"), (int, float)):
        return float(metric["avg"])
    for s in score.get("summary_scores") or []:
        if isinstance(s, dict) and isinstance(s.get("avg"), (int, float)):
            return float(s["avg"])
    return None


def score_std(run: RunPublic) -> float | None:
    metric = (run.score or {}).get("cosine_similarity")
    if isinstance(metric, dict) and isinstance(metric.get("std"), (int, float)):
        return float(metric["std"])
    return None


def cost_total(run: RunPublic) -> float | None:
    total = (run.cost or {}).get("total_cost_usd")
    return float(total) if isinstance(total, (int, float)) else None


def is_terminal(run: RunPublic) -> bool:
    return run.status in TERMINAL


def worst_first_key(item: ItemResultPublic) -> tuple[int, float, int]:
    """Failed items first, then scored items from the lowest score, then the unscored
    successes, then what has no result yet; dataset order breaks ties."""
    if item.status == "failed":
        return (0, 0.0, item.position)
    if item.score is not None:
        return (1, item.score, item.position)
    if item.status == "succeeded":
        return (2, 0.0, item.position)
    return (3, 0.0, item.position)


@dataclass
class RunPage:
    run: RunDetail
    items: list[ItemResultPublic]  # this page, filtered, worst first
    matching: int  # items passing the filters
    page: int
    pages: int
    statuses: list[str]
    categories: list[str]
    status: str | None
    category: str | None
    scored: int
    histogram: Markup = field(default_factory=Markup)

    @property
    def avg(self) -> float | None:
        return score_avg(self.run)

    @property
    def std(self) -> float | None:
        return score_std(self.run)

    @property
    def cost(self) -> float | None:
        return cost_total(self.run)

    @property
    def terminal(self) -> bool:
        return is_terminal(self.run)


def filtered(results: list[ItemResultPublic], status: str | None, category: str | None) -> list[ItemResultPublic]:
    out = results
    if status:
        out = [r for r in out if r.status == status]
    if category:
        out = [r for r in out if (r.category or "") == category]
    return out


def run_page(
    detail: RunDetail,
    *,
    status: str | None = None,
    category: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> RunPage:
    results = detail.results or []
    chosen = sorted(filtered(results, status, category), key=worst_first_key)
    pages = max(1, math.ceil(len(chosen) / page_size))
    page = min(max(page, 1), pages)
    scores = [r.score for r in results if r.score is not None]
    return RunPage(
        run=detail,
        items=chosen[(page - 1) * page_size : page * page_size],
        matching=len(chosen),
        page=page,
        pages=pages,
        statuses=sorted({r.status for r in results}),
        categories=sorted({r.category for r in results if r.category}),
        status=status or None,
        category=category or None,
        scored=len(scores),
        histogram=histogram("score-histogram", "Scores of the run's items", bin_scores([scores]), ["items"], ["s-a"]),
    )


def results_csv(detail: RunDetail, *, status: str | None = None, category: str | None = None) -> str:
    """The run's items (filtered) in dataset order, every text cell neutralised."""
    rows = sorted(filtered(detail.results or [], status, category), key=lambda r: r.position)
    return to_csv(CSV_COLUMNS, (r.model_dump() for r in rows))


@dataclass
class ComparedItem:
    a: ItemResultPublic
    b: ItemResultPublic

    @property
    def delta(self) -> float | None:
        if self.a.score is None or self.b.score is None:
            return None
        return self.b.score - self.a.score

    @property
    def change(self) -> float:
        """How much the item moved: |Δscore|, or more than any score can move when it was
        scored in one run only (succeeded in one, failed in the other)."""
        if self.delta is not None:
            return abs(self.delta)
        return 0.0 if (self.a.score is None) == (self.b.score is None) and self.a.status == self.b.status else 3.0


@dataclass
class Comparison:
    a: RunDetail
    b: RunDetail
    items: list[ComparedItem]  # most changed first
    improved: int = 0
    worsened: int = 0
    unchanged: int = 0
    histogram: Markup = field(default_factory=Markup)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def avg_a(self) -> float | None:
        return score_avg(self.a)

    @property
    def avg_b(self) -> float | None:
        return score_avg(self.b)

    @property
    def avg_delta(self) -> float | None:
        if self.avg_a is None or self.avg_b is None:
            return None
        return self.avg_b - self.avg_a


CHANGE_EPSILON = 1e-9


def compare(a: RunDetail, b: RunDetail) -> Comparison:
    """Two runs on the same dataset, item by item (the dataset's items are the join key)."""
    if a.dataset_id != b.dataset_id:
        raise ValidationFailed(
            f"runs {a.id} and {b.id} are on different datasets ({a.dataset_id} and {b.dataset_id}); "
            "only runs on the same dataset can be compared item by item",
            code="datasets_differ",
        )
    by_item = {r.item_id: r for r in b.results or []}
    pairs = [ComparedItem(r, by_item[r.item_id]) for r in a.results or [] if r.item_id in by_item]
    pairs.sort(key=lambda p: (-p.change, p.a.position))
    out = Comparison(a=a, b=b, items=pairs)
    for p in pairs:
        d = p.delta
        if d is None:
            continue
        if d > CHANGE_EPSILON:
            out.improved += 1
        elif d < -CHANGE_EPSILON:
            out.worsened += 1
        else:
            out.unchanged += 1
    scores_a = [r.score for r in a.results or [] if r.score is not None]
    scores_b = [r.score for r in b.results or [] if r.score is not None]
    out.histogram = histogram(
        "compare-histogram",
        f"Scores of run {a.id} and run {b.id}",
        bin_scores([scores_a, scores_b]),
        [f"run {a.id}", f"run {b.id}"],
        ["s-a", "s-b"],
    )
    return out
