"""Golden datasets from CSV, scoped to one tenant: upload, list, show, delete.

Items live in the database (the engines read them from there); the original CSV is kept
in object storage as uploaded, so what was evaluated can always be traced to the file.
Fast-eligibility is a column comparison (`original_items <= limit`) done in SQL, so a
filtered page is a true page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lse.datasets.csv_upload import ParsedCsv, parse_csv
from lse.errors import ConflictError, NotFoundError, UsageError
from lse.evals.integrity import flush_unique
from lse.evals.schemas import MAX_ID, DatasetPublic, has_nul
from lse.objects import object_store
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDataset, EvaluationDatasetItem, EvaluationRun
from lse.tenancy import Tenant

log = logging.getLogger(__name__)

_NAME_CONSTRAINT = "uq_evaluation_datasets_organization_id_project_id_name"
MAX_DUPLICATION = 5


@dataclass(frozen=True)
class DatasetUpload:
    name: str
    data: bytes
    filename: str | None
    content_type: str | None
    description: str | None = None
    duplication_factor: int = 1


def _public(d: EvaluationDataset, settings: Settings, skipped: int | None = None) -> DatasetPublic:
    return DatasetPublic(
        dataset_id=d.id,
        dataset_name=d.name,
        description=d.description,
        total_items=d.total_items,
        original_items=d.original_items,
        duplication_factor=d.duplication_factor,
        skipped_rows=skipped,
        eligible_for_fast=d.original_items <= settings.eval_fast_max_unique_rows,
        object_store_url=d.object_store_url,
        inserted_at=d.created_at,
    )


def _duplicate(name: str) -> ConflictError:
    return ConflictError(f"a dataset named {name!r} already exists in this project", code="dataset_name_exists")


def find_dataset(session: Session, tenant: Tenant, dataset_id: int) -> EvaluationDataset:
    """The tenant's dataset or 404 — another tenant's dataset is indistinguishable from none."""
    if not 1 <= dataset_id <= MAX_ID:
        raise NotFoundError(f"dataset {dataset_id} not found in this project", code="dataset_not_found")
    dataset = session.scalar(
        select(EvaluationDataset).where(
            EvaluationDataset.id == dataset_id,
            EvaluationDataset.organization_id == tenant.organization_id,
            EvaluationDataset.project_id == tenant.project_id,
        )
    )
    if dataset is None:
        raise NotFoundError(f"dataset {dataset_id} not found in this project", code="dataset_not_found")
    return dataset


def unique_questions(session: Session, dataset_id: int) -> int:
    """Distinct questions among the stored items: the fast-eligibility measure."""
    return (
        session.scalar(
            select(func.count(func.distinct(EvaluationDatasetItem.question_id))).where(
                EvaluationDatasetItem.dataset_id == dataset_id
            )
        )
        or 0
    )


def dataset_items(session: Session, dataset_id: int) -> list[EvaluationDatasetItem]:
    """Every item in position order (what an engine evaluates)."""
    return list(
        session.scalars(
            select(EvaluationDatasetItem)
            .where(EvaluationDatasetItem.dataset_id == dataset_id)
            .order_by(EvaluationDatasetItem.position)
        )
    )


def upload_dataset(settings: Settings, tenant: Tenant, upload: DatasetUpload) -> DatasetPublic:
    """Validate the CSV, store its items (each row `duplication_factor` times) and the file."""
    name = (upload.name or "").strip()
    if not name or len(name) > 255:
        raise UsageError("dataset_name must be 1-255 characters")
    if has_nul(name) or has_nul(upload.description) or has_nul(upload.filename):
        raise UsageError("dataset_name, description and file name must not contain NUL characters")
    if not 1 <= upload.duplication_factor <= MAX_DUPLICATION:
        raise UsageError(f"duplication_factor must be between 1 and {MAX_DUPLICATION}")
    parsed: ParsedCsv = parse_csv(upload.data, upload.filename, upload.content_type)
    store = object_store(settings)
    key: str | None = None
    try:
        with unit_of_work(get_engine(settings)) as session:
            if session.scalar(
                select(EvaluationDataset.id).where(
                    EvaluationDataset.organization_id == tenant.organization_id,
                    EvaluationDataset.project_id == tenant.project_id,
                    EvaluationDataset.name == name,
                )
            ):
                raise _duplicate(name)
            factor = upload.duplication_factor
            dataset = EvaluationDataset(
                organization_id=tenant.organization_id,
                project_id=tenant.project_id,
                name=name,
                description=upload.description,
                duplication_factor=factor,
                total_items=len(parsed.rows) * factor,
                original_items=0,
            )
            session.add(dataset)
            flush_unique(
                session,
                _NAME_CONSTRAINT,
                "evaluation_datasets",
                ("organization_id", "project_id", "name"),
                _duplicate(name),
            )
            session.add_all(
                EvaluationDatasetItem(
                    dataset_id=dataset.id,
                    position=row_no * factor + dup,
                    question_id=row_no + 1,
                    duplicate_index=dup,
                    question=row.question,
                    answer=row.answer,
                    category=row.category,
                )
                for row_no, row in enumerate(parsed.rows)
                for dup in range(factor)
            )
            session.flush()
            dataset.original_items = unique_questions(session, dataset.id)
            key = f"datasets/{tenant.organization_id}/{tenant.project_id}/{dataset.id}/original.csv"
            dataset.object_store_url = store.put_bytes(key, upload.data, "text/csv")
            return _public(dataset, settings, parsed.skipped_rows)
    except BaseException:
        if key is not None:  # the row never committed: do not leave its file behind
            try:
                store.delete(key)
            except Exception as cleanup:  # noqa: BLE001 — the original error is the one to raise
                log.warning("could not delete %s after a failed dataset upload; remove it by hand: %s", key, cleanup)
        raise


def list_datasets(
    settings: Settings,
    tenant: Tenant,
    *,
    limit: int = 50,
    offset: int = 0,
    eligible_for_fast: bool | None = None,
) -> list[DatasetPublic]:
    """Newest first; the eligibility filter is in the WHERE clause, before LIMIT/OFFSET."""
    query = select(EvaluationDataset).where(
        EvaluationDataset.organization_id == tenant.organization_id,
        EvaluationDataset.project_id == tenant.project_id,
    )
    limit_rows = settings.eval_fast_max_unique_rows
    if eligible_for_fast is True:
        query = query.where(EvaluationDataset.original_items <= limit_rows)
    elif eligible_for_fast is False:
        query = query.where(EvaluationDataset.original_items > limit_rows)
    query = query.order_by(EvaluationDataset.created_at.desc(), EvaluationDataset.id.desc())
    with unit_of_work(get_engine(settings)) as session:
        rows = session.scalars(query.limit(limit).offset(offset)).all()
        return [_public(d, settings) for d in rows]


def get_dataset(settings: Settings, tenant: Tenant, dataset_id: int) -> DatasetPublic:
    with unit_of_work(get_engine(settings)) as session:
        return _public(find_dataset(session, tenant, dataset_id), settings)


def delete_dataset(settings: Settings, tenant: Tenant, dataset_id: int) -> DatasetPublic:
    """Delete the dataset, its items and its file; refused (409) while runs reference it."""
    with unit_of_work(get_engine(settings)) as session:
        dataset = find_dataset(session, tenant, dataset_id)
        runs = session.scalar(select(func.count()).where(EvaluationRun.dataset_id == dataset.id)) or 0
        if runs:
            raise ConflictError(
                f"dataset {dataset_id} is used by {runs} evaluation run(s) and cannot be deleted; "
                "a dataset is kept as long as runs reference it",
                code="dataset_in_use",
                details={"runs": runs},
            )
        public = _public(dataset, settings)
        session.delete(dataset)
        try:
            session.flush()
        except IntegrityError as exc:  # a run was created meanwhile: its foreign key holds
            raise ConflictError(
                f"dataset {dataset_id} is used by an evaluation run and cannot be deleted",
                code="dataset_in_use",
            ) from exc
    key = f"datasets/{tenant.organization_id}/{tenant.project_id}/{dataset_id}/original.csv"
    object_store(settings).delete(key)
    return public
