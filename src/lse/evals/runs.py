"""Evaluation runs: validated creation, listing and detail, scoped to one tenant.

Creation checks run in Kaapi's order, so the first problem reported is the most basic
one: dataset (404) → config version resolves (400 "Failed to resolve config") → provider
(422) → completion type (422) → params allowed and text sendable (422) → fast
eligibility (422) → engine availability (422). The run name's uniqueness is left to the
database constraint, so two simultaneous requests cannot both create a run: the loser
gets 409. Submitting the committed run to an engine is the caller's job (API route,
CLI), which keeps this module free of the worker layer.

Reads give lse's fields and Kaapi's side by side (`lse.evals.run_views`); per-item
results come as lse's `results[]` (include_results) and as Kaapi's `score.traces[]`
(trace_info), which only a completed run has.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from lse.datasets.service import find_dataset, unique_questions
from lse.errors import ConflictError, NotFoundError, ValidationFailed
from lse.evals import run_views
from lse.evals.batch.views import batches_public
from lse.evals.configs import check_runnable, resolve_version
from lse.evals.schemas import MAX_ID, ItemResultPublic, Progress, RunCreate, RunDetail, RunPublic
from lse.evals.trace_ids import item_trace_id
from lse.settings import Settings
from lse.store.engine import get_engine, retry_when_busy, unit_of_work
from lse.store.errors import conflict_on
from lse.store.models.evaluation import (
    RUN_NAME_CONSTRAINT,
    EvaluationDatasetItem,
    EvaluationItemResult,
    EvaluationRun,
    utcnow,
)
from lse.tenancy import Tenant

MAX_PAGE = 100


def run_public(run: EvaluationRun) -> RunPublic:
    return RunPublic(
        id=run.id,
        run_name=run.run_name,
        run_mode=run.run_mode,
        status=run.status,
        dataset_id=run.dataset_id,
        dataset_name=run.dataset_name,
        config_id=run.config_id,
        config_version=run.config_version,
        total_items=run.total_items,
        organization_id=run.organization_id,
        project_id=run.project_id,
        progress=Progress(
            total=run.total_items,
            succeeded=run.items_succeeded,
            failed=run.items_failed,
            done=run.items_succeeded + run.items_failed,
        ),
        score=run_views.kaapi_score(run.score),
        cost=run_views.kaapi_cost(run.cost),
        error_message=run.error_message,
        cancel_requested_at=run.cancel_requested_at,
        inserted_at=run.created_at,
        updated_at=run.updated_at,
        started_at=run.started_at,
        completed_at=run.completed_at,
    )


@retry_when_busy
def create_run(settings: Settings, tenant: Tenant, body: RunCreate, *, available_modes: Collection[str]) -> RunPublic:
    """Validate and insert a pending run; `available_modes` comes from the worker dispatch."""
    mode = body.run_mode.value
    with unit_of_work(get_engine(settings), write=True) as session:
        dataset = find_dataset(session, tenant, body.dataset_id)
        config, version = resolve_version(session, tenant, str(body.config_id), body.config_version)
        check_runnable(settings, version.config_blob)
        if mode == "fast":
            unique = unique_questions(session, dataset.id)
            limit = settings.eval_fast_max_unique_rows
            if unique > limit:
                raise ValidationFailed(
                    f"dataset has {unique} unique rows; fast mode requires at most {limit} "
                    "(LSE_EVAL_FAST_MAX_UNIQUE_ROWS): use run_mode 'batch'",
                    code="dataset_too_large_for_fast",
                    details={"original_items": unique, "total_items": dataset.total_items, "max_unique_rows": limit},
                )
        if mode not in available_modes:
            raise ValidationFailed(
                f"run mode {mode} is not available: no engine for it is configured in this deployment",
                code="run_mode_not_available",
                details={"available_modes": sorted(available_modes)},
            )
        run = EvaluationRun(
            organization_id=tenant.organization_id,
            project_id=tenant.project_id,
            run_name=body.experiment_name,
            run_mode=mode,
            status="pending",
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            config_id=config.id,
            config_version=version.version,
            total_items=dataset.total_items,
        )
        session.add(run)
        with conflict_on(
            RUN_NAME_CONSTRAINT,
            "evaluation_runs",
            ("organization_id", "project_id", "run_name"),
            ConflictError(
                f"an evaluation run named {body.experiment_name!r} already exists in this project; "
                "choose another experiment_name",
                code="run_name_already_exists",
            ),
        ):
            session.flush()
        return run_public(run)


@retry_when_busy
def mark_failed(settings: Settings, run_id: int, message: str) -> None:
    """A run that could not be handed to an engine must say so, never stay pending."""
    with unit_of_work(get_engine(settings), write=True) as session:
        run = session.get(EvaluationRun, run_id)
        if run is not None and run.status == "pending":
            run.status = "failed"
            run.error_message = message
            run.completed_at = utcnow()


def find_run(session: Session, tenant: Tenant | None, run_id: int) -> EvaluationRun:
    """The tenant's run or 404; `tenant=None` is the operator's unscoped view (CLI, worker)."""
    if not 1 <= run_id <= MAX_ID:
        raise NotFoundError(f"evaluation run {run_id} not found", code="run_not_found")
    query = select(EvaluationRun).where(EvaluationRun.id == run_id)
    if tenant is not None:
        query = query.where(
            EvaluationRun.organization_id == tenant.organization_id,
            EvaluationRun.project_id == tenant.project_id,
        )
    run = session.scalar(query)
    if run is None:
        raise NotFoundError(f"evaluation run {run_id} not found", code="run_not_found")
    return run


def item_results(session: Session, run: EvaluationRun) -> list[ItemResultPublic]:
    """Every item of the run's dataset with its result, `pending` where there is none yet."""
    rows = session.execute(
        select(EvaluationDatasetItem, EvaluationItemResult)
        .outerjoin(
            EvaluationItemResult,
            and_(EvaluationItemResult.item_id == EvaluationDatasetItem.id, EvaluationItemResult.run_id == run.id),
        )
        .where(EvaluationDatasetItem.dataset_id == run.dataset_id)
        .order_by(EvaluationDatasetItem.position)
    ).all()
    out = []
    for item, res in rows:
        base: dict[str, Any] = {
            "item_id": item.id,
            "position": item.position,
            "question_id": item.question_id,
            "duplicate_index": item.duplicate_index,
            "question": item.question,
            "expected_answer": item.answer,
            "category": item.category,
        }
        if res is None:
            out.append(ItemResultPublic(**base, status="pending"))
            continue
        out.append(
            ItemResultPublic(
                **base,
                status=res.status,
                output=res.output,
                score=res.score,
                score_status=res.score_status,
                error=res.error,
                error_code=res.error_code,
                input_tokens=res.input_tokens,
                cached_tokens=res.cached_tokens,
                output_tokens=res.output_tokens,
                reasoning_tokens=res.reasoning_tokens,
                latency_ms=res.latency_ms,
                attempts=res.attempts,
                response_id=res.response_id,
            )
        )
    return out


TRACES_ONLY_WHEN_COMPLETED = "Trace info is only available for completed evaluations. Current status: {status}"


def _unscoreable_of(session: Session, run: EvaluationRun) -> dict[str, str] | None:
    rows = session.execute(
        select(EvaluationItemResult.item_id, EvaluationItemResult.error, EvaluationItemResult.error_code).where(
            EvaluationItemResult.run_id == run.id, EvaluationItemResult.score.is_(None)
        )
    ).all()
    out = {item_trace_id(run.trace_seed, item_id): error or code or "not scored" for item_id, error, code in rows}
    return out or None


def get_run(settings: Settings, tenant: Tenant | None, run_id: int, *, include_results: bool = False) -> RunDetail:
    return read_run(settings, tenant, run_id, include_results=include_results)[0]


def read_run(
    settings: Settings,
    tenant: Tenant | None,
    run_id: int,
    *,
    include_results: bool = False,
    trace_info: bool = False,
    export_format: Literal["row", "grouped"] = "row",
) -> tuple[RunDetail, str | None]:
    """(the run, Kaapi's failure sentence or None). `trace_info` adds `score.traces[]` (and
    `score.grouped_traces[]` with `export_format="grouped"`) for a completed run; for any
    other run the sentence says why there are none, and the run is returned as it is."""
    with unit_of_work(get_engine(settings)) as session:
        run = find_run(session, tenant, run_id)
        detail = RunDetail(**run_public(run).model_dump())
        if run.status in ("completed", "failed", "cancelled"):
            detail.unscoreable = _unscoreable_of(session, run)
        if run.run_mode == "batch":
            detail.batches = batches_public(session, run.id)
            responses = [b for b in detail.batches if b.stage == "responses"]
            detail.batch_job_id = responses[-1].id if responses else None  # Kaapi's: its latest response batch
        results = item_results(session, run) if include_results or (trace_info and run.status == "completed") else None
        if include_results:
            detail.results = results
        if not trace_info:
            return detail, None
        if run.status != "completed":
            return detail, TRACES_ONLY_WHEN_COMPLETED.format(status=run.status)
        rows = run_views.traces(run.trace_seed, results or [])
        score = dict(detail.score or {})
        score["traces"] = rows
        if export_format == "grouped":
            score["grouped_traces"] = run_views.grouped_traces(rows)
        detail.score = score
        return detail, None


def list_runs(
    settings: Settings, tenant: Tenant, *, limit: int = 50, offset: int = 0, dataset_id: int | None = None
) -> list[RunPublic]:
    """Newest first, optionally only the runs of one dataset; `limit` is clamped to 1..100."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, min(offset, MAX_ID))
    query = select(EvaluationRun).where(
        EvaluationRun.organization_id == tenant.organization_id,
        EvaluationRun.project_id == tenant.project_id,
    )
    if dataset_id is not None:
        query = query.where(EvaluationRun.dataset_id == dataset_id)
    query = query.order_by(EvaluationRun.created_at.desc(), EvaluationRun.id.desc()).limit(limit).offset(offset)
    with unit_of_work(get_engine(settings)) as session:
        return [run_public(r) for r in session.scalars(query)]
