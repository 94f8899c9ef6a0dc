"""/api/v1/evaluations/datasets: golden datasets uploaded as CSV.

The upload answers 200, as Kaapi's does. The request guard has already capped the body
(1 MB of CSV plus multipart overhead) before this route reads any of it, so at most that
much is ever spooled.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response

from lse.api.deps import SettingsDep, TenantDep
from lse.api.envelope import APIResponse, ok
from lse.datasets import service as datasets
from lse.datasets.csv_upload import MAX_CSV_BYTES, check_size
from lse.datasets.schemas import DatasetDeleted, DatasetPublic
from lse.schema_types import MAX_ID

router = APIRouter(prefix="/evaluations/datasets", tags=["datasets"])

DatasetId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=APIResponse[DatasetPublic])
@router.post("/", response_model=APIResponse[DatasetPublic], include_in_schema=False)
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
    """Upload a CSV; each row becomes `duplication_factor` items sharing one question_id.

    The name is stored sanitised as Kaapi does ("My Dataset 01!" → `my_dataset_01`)."""
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
@router.get("/", response_model=APIResponse[list[DatasetPublic]], include_in_schema=False)
def list_datasets(
    settings: SettingsDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    eligible_for_fast: Annotated[
        bool | None, Query(description="true: only fast-eligible datasets; false: only the others")
    ] = None,
    eligible_for: Annotated[
        Literal["fast"] | None, Query(description="`fast`: the same as eligible_for_fast=true (an earlier spelling)")
    ] = None,
):
    """Newest first; the eligibility filter is applied before paging."""
    if eligible_for == "fast" and eligible_for_fast is None:
        eligible_for_fast = True
    rows = datasets.list_datasets(settings, tenant, limit=limit, offset=offset, eligible_for_fast=eligible_for_fast)
    return ok(rows, metadata={"limit": limit, "offset": offset, "count": len(rows)})


@router.get("/{dataset_id}", response_model=APIResponse[DatasetPublic])
def get_dataset(
    dataset_id: DatasetId,
    request: Request,
    settings: SettingsDep,
    tenant: TenantDep,
    include_signed_url: Annotated[bool, Query(description="Add a short-lived URL to download the CSV.")] = False,
):
    if include_signed_url:
        url = str(request.url_for("download_dataset", dataset_id=dataset_id))
        return ok(datasets.get_dataset_signed(settings, tenant, dataset_id, url))
    return ok(datasets.get_dataset(settings, tenant, dataset_id))


@router.get("/{dataset_id}/download", name="download_dataset", include_in_schema=False)
def download_dataset(
    dataset_id: DatasetId,
    settings: SettingsDep,
    expires: Annotated[int, Query(ge=0, le=2**63 - 1)],
    signature: Annotated[str, Query(min_length=1, max_length=128)],
):
    """The uploaded CSV, for the holder of a signed URL (no API key: the signature is the grant)."""
    data, name = datasets.signed_download(settings, dataset_id, expires, signature)
    return Response(
        content=data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )


@router.delete("/{dataset_id}", response_model=APIResponse[DatasetDeleted])
def delete_dataset(dataset_id: DatasetId, settings: SettingsDep, tenant: TenantDep):
    """Delete a dataset, its items and its CSV; 400 while evaluation runs use it."""
    return ok(datasets.delete_dataset(settings, tenant, dataset_id))
