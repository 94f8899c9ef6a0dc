"""Datasets: the list, a CSV upload, and a dataset built from archived PASS verdicts.

The upload and the archive build call the services the REST API and `lse eval dataset`
call (`lse.evals.datasets.upload_dataset`, `lse.evals.archive_datasets.dataset_from_archive`);
an archive build may only read archived projects granted to the signed-in key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lse.datasets.csv_upload import MAX_CSV_BYTES, check_size
from lse.errors import LseError, NotFoundError, UsageError
from lse.evals import datasets
from lse.evals.archive_datasets import dataset_from_archive
from lse.settings import Settings
from lse.store import archive_views as av
from lse.store.engine import get_engine
from lse.web.auth import Viewer
from lse.web.deps import ActionDep, StateDep, ViewerDep, ViewerState
from lse.web.rendering import render
from lse.web.route import ViewerRoute
from lse.web.views.archive import MAX_RANGE_DAYS, parse_day

router = APIRouter(route_class=ViewerRoute, include_in_schema=False)


def _page(state: ViewerState, viewer: Viewer, *, status: int = 200, **extra: Any) -> HTMLResponse:
    settings: Settings = state.settings
    context: dict[str, Any] = {
        "datasets": datasets.list_datasets(settings, viewer.tenant, limit=100),
        "archive_projects": state.access.visible(viewer.tenant, av.archive_projects(get_engine(settings))),
        "max_csv_kb": MAX_CSV_BYTES // 1024,
        "form": {},
        "created": None,
    }
    context.update(extra)
    html = render("datasets.html", viewer=viewer, csrf=viewer.csrf, nav="datasets", **context)
    return HTMLResponse(html, status_code=status)


@router.get("/datasets")
def dataset_list(state: StateDep, viewer: ViewerDep, created: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    return _page(state, viewer, created=created)


@router.post("/datasets")
def upload(
    state: StateDep,
    viewer: ActionDep,
    file: Annotated[UploadFile, File()],
    dataset_name: Annotated[str, Form(max_length=255)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    duplication_factor: Annotated[int, Form(ge=1, le=5)] = 1,
) -> Response:
    try:
        if not dataset_name.strip():
            raise UsageError("give the dataset a name")
        data = file.file.read(MAX_CSV_BYTES + 1)  # never read more than we would accept
        check_size(len(data))
        created = datasets.upload_dataset(
            state.settings,
            viewer.tenant,
            datasets.DatasetUpload(
                name=dataset_name.strip(),
                data=data,
                filename=file.filename,
                content_type=file.content_type,
                description=description.strip() or None,
                duplication_factor=duplication_factor,
            ),
        )
    except LseError as exc:
        return _page(state, viewer, status=exc.http_status, error=exc.message)
    return RedirectResponse(f"/datasets?created={created.dataset_id}", status_code=303)


@router.post("/datasets/from-archive")
def from_archive(
    state: StateDep,
    viewer: ActionDep,
    dataset_name: Annotated[str, Form(max_length=255)] = "",
    source_project: Annotated[str, Form(max_length=255)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
    max_items: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    form = {
        "dataset_name": dataset_name,
        "source_project": source_project,
        "start": start,
        "end": end,
        "max_items": max_items,
    }
    settings = state.settings
    try:
        if not dataset_name.strip():
            raise UsageError("give the dataset a name")
        if not state.access.allows(viewer.tenant, source_project):
            raise NotFoundError(f"no archived project {source_project!r} for this key")
        first, last = parse_day(start, "start"), parse_day(end, "end")
        if first is None or last is None:
            raise UsageError("give the first and the last day of the archived range")
        if first > last or (last - first).days >= MAX_RANGE_DAYS:
            raise UsageError(f"the range must run forwards and span at most {MAX_RANGE_DAYS} days")
        limit = int(max_items) if max_items.strip() else None
        if limit is not None and limit < 1:
            raise UsageError("max items must be at least 1")
        days = av.archived_days(get_engine(settings), source_project, first, last)
        if not days:
            raise UsageError(f"{source_project!r} has no archived day in {first}..{last}")
        created = dataset_from_archive(
            settings,
            viewer.tenant,
            name=dataset_name.strip(),
            source_project=source_project,
            days=days,
            max_items=limit,
        )
    except ValueError:
        return _page(state, viewer, status=422, error="max items must be a whole number", form=form)
    except LseError as exc:
        return _page(state, viewer, status=exc.http_status, error=exc.message, form=form)
    return RedirectResponse(f"/datasets?created={created.dataset_id}", status_code=303)
