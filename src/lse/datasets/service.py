"""Golden datasets from CSV, scoped to one tenant: upload, list, show, delete.

Items live in the database (the engines read them from there); the original CSV is kept
in object storage as uploaded, so what was evaluated can always be traced to the file.
Fast-eligibility is a column comparison (`original_items <= limit`) done in SQL, so a
filtered page is a true page.

An upload is bounded before it is stored: at most `LSE_DATASET_MAX_ITEMS` items after
duplication, counted while the CSV is parsed. The file goes to object storage before the
database transaction (so a slow store never holds the database's write lock), and the
items are inserted in batches of `INSERT_BATCH` rows built as they are sent, so memory
stays flat and SQLite's write lock is held for one short transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lse.datasets.csv_upload import ParsedCsv, parse_csv
from lse.datasets.names import sanitize_dataset_name
from lse.datasets.schemas import DatasetDeleted, DatasetPublic
from lse.errors import BadRequest, ConflictError, NotFoundError, UsageError
from lse.objects import object_store, signing
from lse.schema_types import MAX_ID, has_lone_surrogate, has_nul
from lse.settings import Settings
from lse.store.engine import get_engine, retry_when_busy, unit_of_work
from lse.store.errors import conflict_on
from lse.store.models.evaluation import EvaluationDataset, EvaluationDatasetItem, EvaluationRun
from lse.tenancy import Tenant

log = logging.getLogger(__name__)

_NAME_CONSTRAINT = "uq_evaluation_datasets_organization_id_project_id_name"
MAX_DUPLICATION = 5
INSERT_BATCH = 1_000
SIGNED_URL_TTL_S = 900  # how long a dataset download URL works


@dataclass(frozen=True)
class DatasetUpload:
    name: str
    data: bytes
    filename: str | None
    content_type: str | None
    description: str | None = None
    duplication_factor: int = 1


def dataset_public(
    d: EvaluationDataset, settings: Settings, skipped: int | None = None, signed_url: str | None = None
) -> DatasetPublic:
    url = d.object_store_url
    return DatasetPublic(
        dataset_id=d.id,
        dataset_name=d.name,
        description=d.description,
        total_items=d.total_items,
        original_items=d.original_items,
        duplication_factor=d.duplication_factor,
        skipped_rows=skipped,
        eligible_for_fast=d.original_items <= settings.eval_fast_max_unique_rows,
        langfuse_dataset_id=d.langfuse_dataset_id,
        object_store_url=object_store(settings).public_url(url) if url else None,
        signed_url=signed_url,
        inserted_at=d.created_at,
    )


def _duplicate(name: str) -> ConflictError:
    return ConflictError(f"a dataset named {name!r} already exists in this project", code="dataset_name_exists")


def _not_found(dataset_id: int) -> NotFoundError:
    return NotFoundError(f"dataset {dataset_id} not found in this project", code="dataset_not_found")


def find_dataset(session: Session, tenant: Tenant, dataset_id: int) -> EvaluationDataset:
    """The tenant's dataset or 404 — another tenant's dataset is indistinguishable from none."""
    if not 1 <= dataset_id <= MAX_ID:
        raise _not_found(dataset_id)
    dataset = session.scalar(
        select(EvaluationDataset).where(
            EvaluationDataset.id == dataset_id,
            EvaluationDataset.organization_id == tenant.organization_id,
            EvaluationDataset.project_id == tenant.project_id,
        )
    )
    if dataset is None:
        raise _not_found(dataset_id)
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


def _item_batches(dataset_id: int, parsed: ParsedCsv, factor: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row_no, row in enumerate(parsed.rows):
        for dup in range(factor):
            batch.append(
                {
                    "dataset_id": dataset_id,
                    "position": row_no * factor + dup,
                    "question_id": row_no + 1,
                    "duplicate_index": dup,
                    "question": row.question,
                    "answer": row.answer,
                    "category": row.category,
                }
            )
            if len(batch) >= INSERT_BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _checked_upload(settings: Settings, upload: DatasetUpload) -> tuple[str, ParsedCsv]:
    for text in (upload.name, upload.description, upload.filename):
        if text is not None and (has_nul(text) or has_lone_surrogate(text)):
            raise UsageError("dataset_name, description and file name must be text without NUL or lone surrogates")
    name = sanitize_dataset_name((upload.name or "").strip())
    if len(name) > 255:
        raise UsageError("dataset_name must be at most 255 characters")
    if not 1 <= upload.duplication_factor <= MAX_DUPLICATION:
        raise UsageError(f"duplication_factor must be between 1 and {MAX_DUPLICATION}")
    max_rows = max(1, settings.dataset_max_items // upload.duplication_factor)
    return name, parse_csv(upload.data, upload.filename, upload.content_type, max_rows=max_rows)


@retry_when_busy
def _insert_dataset(
    settings: Settings, tenant: Tenant, upload: DatasetUpload, name: str, parsed: ParsedCsv, url: str
) -> DatasetPublic:
    factor = upload.duplication_factor
    with unit_of_work(get_engine(settings), write=True) as session:
        if session.scalar(
            select(EvaluationDataset.id).where(
                EvaluationDataset.organization_id == tenant.organization_id,
                EvaluationDataset.project_id == tenant.project_id,
                EvaluationDataset.name == name,
            )
        ):
            raise _duplicate(name)
        dataset = EvaluationDataset(
            organization_id=tenant.organization_id,
            project_id=tenant.project_id,
            name=name,
            description=upload.description,
            duplication_factor=factor,
            total_items=len(parsed.rows) * factor,
            original_items=len(parsed.rows),  # one question_id per kept CSV row
            object_store_url=url,
        )
        session.add(dataset)
        with conflict_on(
            _NAME_CONSTRAINT, "evaluation_datasets", ("organization_id", "project_id", "name"), _duplicate(name)
        ):
            session.flush()
        for batch in _item_batches(dataset.id, parsed, factor):
            session.execute(insert(EvaluationDatasetItem), batch)
        return dataset_public(dataset, settings, parsed.skipped_rows)


def upload_dataset(settings: Settings, tenant: Tenant, upload: DatasetUpload) -> DatasetPublic:
    """Validate the CSV, keep the file, and store its items (each row `duplication_factor` times)."""
    name, parsed = _checked_upload(settings, upload)
    store = object_store(settings)
    key = f"datasets/{tenant.organization_id}/{tenant.project_id}/{uuid.uuid4().hex}/original.csv"
    url = store.put_bytes(key, upload.data, "text/csv")
    try:
        return _insert_dataset(settings, tenant, upload, name, parsed, url)
    except BaseException:
        try:  # the row never committed: do not leave its file behind
            store.delete(key)
        except Exception as cleanup:  # noqa: BLE001 -- the original error is the one to raise
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
        return [dataset_public(d, settings) for d in rows]


def get_dataset(settings: Settings, tenant: Tenant, dataset_id: int) -> DatasetPublic:
    with unit_of_work(get_engine(settings)) as session:
        return dataset_public(find_dataset(session, tenant, dataset_id), settings)


def _subject(d: EvaluationDataset) -> str:
    return f"dataset:{d.id}:{d.organization_id}:{d.project_id}"


def get_dataset_signed(settings: Settings, tenant: Tenant, dataset_id: int, download_url: str) -> DatasetPublic:
    """The dataset with a short-lived `signed_url` for its CSV: presigned S3, or
    `download_url` (the API's download route for this dataset) signed by lse."""
    with unit_of_work(get_engine(settings)) as session:
        dataset = find_dataset(session, tenant, dataset_id)
        store = object_store(settings)
        key = store.key_of(dataset.object_store_url) if dataset.object_store_url else None
        url = store.presigned_url(key, SIGNED_URL_TTL_S) if key else None
        if key and url is None:
            expires = signing.expiry(SIGNED_URL_TTL_S)
            url = f"{download_url}?expires={expires}&signature={signing.sign(settings, _subject(dataset), expires)}"
        return dataset_public(dataset, settings, signed_url=url)


def signed_download(settings: Settings, dataset_id: int, expires: int, signature: str) -> tuple[bytes, str]:
    """(the CSV as uploaded, a file name) for a valid, unexpired signed URL; 404 otherwise
    (an invalid signature and a missing dataset look the same)."""
    with unit_of_work(get_engine(settings)) as session:
        dataset = session.get(EvaluationDataset, dataset_id) if 1 <= dataset_id <= MAX_ID else None
        if dataset is None or not signing.valid(settings, _subject(dataset), expires, signature):
            raise NotFoundError("this download link is invalid or has expired", code="download_not_found")
        url, name = dataset.object_store_url, dataset.name
    store = object_store(settings)
    key = store.key_of(url) if url else None
    if key is None:
        raise NotFoundError(f"dataset {dataset_id} has no stored file", code="dataset_file_not_found")
    return store.get_bytes(key), f"{name}.csv"


@retry_when_busy
def delete_dataset(settings: Settings, tenant: Tenant, dataset_id: int) -> DatasetDeleted:
    """Delete the dataset, its items and its file; refused (400, as Kaapi) while runs use it.

    The row is deleted by id and the count checked, so of two simultaneous deletes only
    one succeeds; the other finds nothing to delete and answers 404.
    """
    with unit_of_work(get_engine(settings), write=True) as session:
        dataset = find_dataset(session, tenant, dataset_id)
        runs = session.scalar(select(func.count()).where(EvaluationRun.dataset_id == dataset.id)) or 0
        if runs:
            raise BadRequest(
                f"Cannot delete dataset {dataset_id}: it is being used by {runs} evaluation run(s); "
                "a dataset is kept as long as runs reference it",
                code="dataset_in_use",
                details={"runs": runs},
            )
        url = dataset.object_store_url
        public = dataset_public(dataset, settings)
        try:
            gone = session.execute(
                delete(EvaluationDataset).where(
                    EvaluationDataset.id == dataset.id,
                    EvaluationDataset.organization_id == tenant.organization_id,
                    EvaluationDataset.project_id == tenant.project_id,
                )
            )
        except IntegrityError as exc:  # a run was created meanwhile: its foreign key holds
            raise BadRequest(
                f"Cannot delete dataset {dataset_id}: an evaluation run started using it", code="dataset_in_use"
            ) from exc
        if gone.rowcount != 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
            raise _not_found(dataset_id)
    store = object_store(settings)
    key = store.key_of(url) if url else None
    if key is not None:
        store.delete(key)
    message = f"Successfully deleted dataset '{public.dataset_name}' (id={dataset_id})"
    return DatasetDeleted(**public.model_dump(), message=message)
