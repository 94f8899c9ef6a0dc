"""/api/v1/evaluations/datasets: golden datasets uploaded as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile

from lse.api.deps import SettingsDep, TenantDep
from lse.api.envelope import APIResponse, ok
from lse.datasets.csv_upload import MAX_CSV_BYTES, check_size
from lse.evals import datasets
from lse.evals.schemas import DatasetPublic

router = APIRouter(prefix="/evaluations/datasets", tags=["datasets"])

DatasetId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("", status_code=201, response_model=APIResponse[DatasetPublic])
def upload_dataset(
    settings: SettingsDep,
    tenant: TenantDep,
    file: Annotated[
        UploadFile, File(description="CSV with question, answer and optional category columns; at most 1 MB.")
    ],
    dataset_name: Annotated[str, Form(min_length=1, max_length=255)],
    description: Annotated[str | None, Form(max_length=2000)] = None,
    duplication_factor: Annotated[int, Form(ge=1, le=5)] = 1,
):
    """Upload a CSV; each row becomes `duplication_factor` items sharing one question_id."""
    data = file.file.read(MAX_CSV_BYTES + 1)  # never read more than we would accept
    check_size(len(data))
    upload = datasets.DatasetUpload(
        name=dataset_name,
        data=data,
        filename=file.filename,
        content_type=file.content_type,
        description=description,
        duplication_factor=duplication_factor,
    )
    return ok(datasets.upload_dataset(settings, tenant, upload))


@router.get("", response_model=APIResponse[list[DatasetPublic]])
def list_datasets(
    settings: SettingsDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    eligible_for_fast: Annotated[
        bool | None, Query(description="true: only fast-eligible datasets; false: only the others")
    ] = None,
):
    """Newest first; the eligibility filter is applied before paging."""
    rows = datasets.list_datasets(settings, tenant, limit=limit, offset=offset, eligible_for_fast=eligible_for_fast)
    return ok(rows, metadata={"limit": limit, "offset": offset, "count": len(rows)})


@router.get("/{dataset_id}", response_model=APIResponse[DatasetPublic])
def get_dataset(dataset_id: DatasetId, settings: SettingsDep, tenant: TenantDep):
    return ok(datasets.get_dataset(settings, tenant, dataset_id))


@router.delete("/{dataset_id}", response_model=APIResponse[DatasetPublic])
def delete_dataset(dataset_id: DatasetId, settings: SettingsDep, tenant: TenantDep):
    """Delete a dataset, its items and its CSV; 409 while evaluation runs reference it."""
    return ok(datasets.delete_dataset(settings, tenant, dataset_id))
