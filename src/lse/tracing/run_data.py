"""What an export reads: a completed run (or a dataset) with everything a target shows,
loaded in one session into plain values, so no export holds a database session while it
talks to a remote service."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from lse.errors import NotFoundError
from lse.store.models.evaluation import (
    ConfigVersion,
    EvaluationDataset,
    EvaluationDatasetItem,
    EvaluationItemResult,
    EvaluationRun,
    Organization,
    Project,
)
from lse.tracing.lineage import lineage, source_run_id


def utc(ts: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@dataclass(frozen=True)
class DatasetItemView:
    item_id: int
    position: int
    question_id: int
    duplicate_index: int
    question: str
    answer: str
    category: str | None
    lineage: dict[str, Any] | None = None


@dataclass(frozen=True)
class DatasetView:
    id: int
    organization_id: int
    project_id: int
    organization: str
    project: str
    name: str
    description: str | None
    items: list[DatasetItemView]


def item_metadata(dataset: DatasetView, item: DatasetItemView) -> dict[str, Any]:
    """What every target keeps beside a dataset item: lse's ids, category and lineage."""
    metadata: dict[str, Any] = {
        "lse_dataset_id": dataset.id,
        "lse_item_id": item.item_id,
        "position": item.position,
        "question_id": item.question_id,
        "duplicate_index": item.duplicate_index,
    }
    if item.category is not None:
        metadata["category"] = item.category
    if item.lineage:
        metadata.update(item.lineage)
    return metadata


def content_hash(payload: dict[str, Any]) -> str:
    """The digest of what was last sent for an item: unchanged items are not sent again."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ItemView:
    item: DatasetItemView
    status: str  # succeeded, failed, or pending (no result)
    output: str | None = None
    error: str | None = None
    error_code: str | None = None
    score: float | None = None
    score_status: str | None = None
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    latency_ms: float | None = None
    attempts: int = 0
    response_id: str | None = None
    created_at: datetime | None = None

    @property
    def scored(self) -> bool:
        return self.score_status == "scored" and self.score is not None


@dataclass(frozen=True)
class RunView:
    id: int
    organization_id: int
    project_id: int
    organization: str
    project: str
    run_name: str
    run_mode: str
    status: str
    dataset: DatasetView
    config_id: str
    config_version: int
    completion: dict[str, Any]
    trace_seed: str
    score: dict[str, Any] | None
    cost: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    items: list[ItemView] = field(default_factory=list)

    @property
    def model(self) -> str | None:
        params = self.completion.get("params") or {}
        return params.get("model") if isinstance(params, dict) else None

    @property
    def pricing_tier(self) -> str | None:
        """The tier the run was priced at: the run's cost says (or its responses stage);
        a batch run without one is at batch rates."""
        cost: dict[str, Any] = self.cost if isinstance(self.cost, dict) else {}
        responses = cost.get("responses")
        stage: dict[str, Any] = responses if isinstance(responses, dict) else {}
        for tier in (cost.get("pricing"), stage.get("pricing")):
            if isinstance(tier, str):
                return tier
        return "batch" if self.run_mode == "batch" else None

    def metadata(self) -> dict[str, Any]:
        """What a target shows about the run as a whole."""
        cost = self.cost if isinstance(self.cost, dict) else {}
        return {
            "lse_run_id": self.id,
            "run_name": self.run_name,
            "run_mode": self.run_mode,
            "organization": self.organization,
            "project": self.project,
            "dataset": self.dataset.name,
            "config_id": self.config_id,
            "config_version": self.config_version,
            "model": self.model,
            "pricing": self.pricing_tier,
            "total_cost_usd": cost.get("total_cost_usd"),
            "summary": self.summary,
        }

    @property
    def summary(self) -> dict[str, Any] | None:
        """The run's cosine summary ({name, avg, std, total_pairs}), if it has one."""
        summaries = (self.score or {}).get("summary_scores") if isinstance(self.score, dict) else None
        for entry in summaries or []:
            if isinstance(entry, dict) and entry.get("name") == "cosine_similarity" and entry.get("avg") is not None:
                return entry
        return None


def _tenant_names(session: Session, organization_id: int, project_id: int) -> tuple[str, str]:
    org = session.get(Organization, organization_id)
    project = session.get(Project, project_id)
    return (org.name if org else str(organization_id), project.name if project else str(project_id))


def load_dataset(session: Session, dataset_id: int) -> DatasetView:
    dataset = session.get(EvaluationDataset, dataset_id)
    if dataset is None:
        raise NotFoundError(f"dataset {dataset_id} not found", code="dataset_not_found")
    rows = list(
        session.scalars(
            select(EvaluationDatasetItem)
            .where(EvaluationDatasetItem.dataset_id == dataset_id)
            .order_by(EvaluationDatasetItem.position)
        )
    )
    sources = lineage(session, (r.category for r in rows))
    items = [
        DatasetItemView(
            item_id=r.id,
            position=r.position,
            question_id=r.question_id,
            duplicate_index=r.duplicate_index,
            question=r.question,
            answer=r.answer,
            category=r.category,
            lineage=sources.get(source_run_id(r.category) or ""),
        )
        for r in rows
    ]
    org, project = _tenant_names(session, dataset.organization_id, dataset.project_id)
    return DatasetView(
        id=dataset.id,
        organization_id=dataset.organization_id,
        project_id=dataset.project_id,
        organization=org,
        project=project,
        name=dataset.name,
        description=dataset.description,
        items=items,
    )


def load_run(session: Session, run_id: int) -> RunView:
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise NotFoundError(f"evaluation run {run_id} not found", code="run_not_found")
    dataset = load_dataset(session, run.dataset_id)
    results = {
        r.item_id: r
        for r in session.scalars(select(EvaluationItemResult).where(and_(EvaluationItemResult.run_id == run.id)))
    }
    items = []
    for item in dataset.items:
        res = results.get(item.item_id)
        if res is None:
            items.append(ItemView(item=item, status="pending"))
            continue
        items.append(
            ItemView(
                item=item,
                status=res.status,
                output=res.output,
                error=res.error,
                error_code=res.error_code,
                score=res.score,
                score_status=res.score_status,
                input_tokens=res.input_tokens or 0,
                cached_tokens=res.cached_tokens or 0,
                output_tokens=res.output_tokens or 0,
                reasoning_tokens=res.reasoning_tokens or 0,
                latency_ms=res.latency_ms,
                attempts=res.attempts or 0,
                response_id=res.response_id,
                created_at=utc(res.created_at),
            )
        )
    version = session.scalar(
        select(ConfigVersion).where(
            ConfigVersion.config_id == run.config_id, ConfigVersion.version == run.config_version
        )
    )
    blob = version.config_blob if version is not None else {}
    completion = blob.get("completion") if isinstance(blob, dict) else None
    return RunView(
        id=run.id,
        organization_id=run.organization_id,
        project_id=run.project_id,
        organization=dataset.organization,
        project=dataset.project,
        run_name=run.run_name,
        run_mode=run.run_mode,
        status=run.status,
        dataset=dataset,
        config_id=run.config_id,
        config_version=run.config_version,
        completion=completion if isinstance(completion, dict) else {},
        trace_seed=run.trace_seed,
        score=run.score,
        cost=run.cost,
        created_at=utc(run.created_at) or datetime.now(UTC),
        started_at=utc(run.started_at),
        completed_at=utc(run.completed_at),
        items=items,
    )
