"""Evaluation pages and actions: runs, one run (live), two runs compared, start and cancel.

Every action calls the same service functions as the REST API (`lse.evals.runs`,
`lse.evals.configs`, `lse.worker.dispatch`), with the signed-in key's tenant.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from lse.errors import LseError, ValidationFailed
from lse.evals import configs, datasets, runs
from lse.evals.schemas import MAX_ID, ConfigCreate, RunCreate
from lse.settings import Settings
from lse.tenancy import Tenant
from lse.web.auth import Viewer
from lse.web.capabilities import CancelNotAvailable, cancel_service, run_modes
from lse.web.deps import ActionDep, StateDep, ViewerDep
from lse.web.rendering import render
from lse.web.route import ViewerRoute
from lse.web.views.evaluations import compare, is_terminal, results_csv, run_page
from lse.worker import dispatch

router = APIRouter(route_class=ViewerRoute, include_in_schema=False)

RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
Filter = Annotated[str | None, Query(max_length=255)]
PER_PAGE = 50


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return f"{loc}: {err.get('msg')}" if loc else str(err.get("msg"))


def list_context(settings: Settings, tenant: Tenant, page: int = 1) -> dict[str, Any]:
    offset = (page - 1) * PER_PAGE
    return {
        "runs": runs.list_runs(settings, tenant, limit=PER_PAGE + 1, offset=offset),
        "page": page,
        "per_page": PER_PAGE,
        "datasets": datasets.list_datasets(settings, tenant, limit=100),
        "configs": configs.list_configs(settings, tenant, limit=100),
        "modes": run_modes(settings),
        "form": {},
    }


def _list_page(settings: Settings, viewer: Viewer, *, page: int = 1, status: int = 200, **extra: Any) -> HTMLResponse:
    context = list_context(settings, viewer.tenant, page)
    context.update(extra)
    html = render("evaluations.html", viewer=viewer, csrf=viewer.csrf, nav="evaluations", **context)
    return HTMLResponse(html, status_code=status)


@router.get("/evaluations")
def evaluations(
    state: StateDep,
    viewer: ViewerDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    config: Annotated[str | None, Query(max_length=64)] = None,
):
    """The runs, newest first, and the forms to start one; `config` preselects a config."""
    return _list_page(state.settings, viewer, page=page, form={"config_id": config} if config else {})


@router.post("/evaluations")
def start_run(
    state: StateDep,
    viewer: ActionDep,
    experiment_name: Annotated[str, Form(max_length=255)] = "",
    dataset_id: Annotated[int, Form(ge=0, le=MAX_ID)] = 0,
    config_id: Annotated[str, Form(max_length=64)] = "",
    config_version: Annotated[int, Form(ge=0, le=MAX_ID)] = 0,
    run_mode: Annotated[str, Form(max_length=16)] = "fast",
) -> Response:
    """Create the run and hand it to its engine, as POST /api/v1/evaluations does."""
    settings = state.settings
    form = {
        "experiment_name": experiment_name,
        "dataset_id": dataset_id,
        "config_id": config_id,
        "config_version": config_version,
        "run_mode": run_mode,
    }
    try:
        try:
            body = RunCreate.model_validate(form)
        except ValidationError as exc:
            raise ValidationFailed(f"cannot start the run: {_first_error(exc)}") from exc
        run = runs.create_run(settings, viewer.tenant, body, available_modes=set(run_modes(settings)))
    except LseError as exc:
        return _list_page(settings, viewer, status=exc.http_status, error=exc.message, form=form)
    try:
        dispatch.submit_run(settings, run.id)
    except Exception as exc:  # a broker or pool failure: the run says so, as the API does
        runs.mark_failed(settings, run.id, f"could not start the run: {exc}")
        raise LseError(f"run {run.id} was created but could not be started: {exc}", code="run_submit_failed") from exc
    return RedirectResponse(f"/evaluations/{run.id}", status_code=303)


@router.post("/configs")
def create_config(
    state: StateDep,
    viewer: ActionDep,
    name: Annotated[str, Form(max_length=255)] = "",
    model: Annotated[str, Form(max_length=255)] = "",
    instructions: Annotated[str, Form(max_length=20_000)] = "",
    temperature: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """A text completion config with the few params most runs set; richer configs go
    through the API or `lse eval config`."""
    params: dict[str, Any] = {"model": model.strip()}
    if instructions.strip():
        params["instructions"] = instructions
    if temperature.strip():
        params["temperature"] = temperature.strip()
    try:
        try:
            body = ConfigCreate.model_validate(
                {
                    "name": name,
                    "commit_message": "created in the viewer",
                    "config_blob": {"completion": {"provider": "openai", "type": "text", "params": params}},
                }
            )
        except ValidationError as exc:
            raise ValidationFailed(f"cannot create the config: {_first_error(exc)}") from exc
        created = configs.create_config(state.settings, viewer.tenant, body)
    except LseError as exc:
        return _list_page(state.settings, viewer, status=exc.http_status, error=exc.message)
    return RedirectResponse(f"/evaluations?config={created.id}#start", status_code=303)


@router.get("/evaluations/compare")
def compare_runs(
    state: StateDep,
    viewer: ViewerDep,
    a: Annotated[int, Query(ge=1, le=MAX_ID)],
    b: Annotated[int, Query(ge=1, le=MAX_ID)],
):
    first = runs.get_run(state.settings, viewer.tenant, a, include_results=True)
    second = runs.get_run(state.settings, viewer.tenant, b, include_results=True)
    html = render("compare.html", viewer=viewer, csrf=viewer.csrf, nav="evaluations", cmp=compare(first, second))
    return HTMLResponse(html)


def _run_context(settings: Settings, tenant: Tenant, run_id: int, status: str | None, category: str | None, page: int):
    detail = runs.get_run(settings, tenant, run_id, include_results=True)
    return {
        "view": run_page(detail, status=status, category=category, page=page),
        "can_cancel": cancel_service() is not None and not is_terminal(detail),
    }


@router.get("/evaluations/{run_id}")
def run_detail(
    state: StateDep,
    viewer: ViewerDep,
    run_id: RunId,
    status: Filter = None,
    category: Filter = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    context = _run_context(state.settings, viewer.tenant, run_id, status, category, page)
    return HTMLResponse(render("evaluation.html", viewer=viewer, csrf=viewer.csrf, nav="evaluations", **context))


@router.get("/evaluations/{run_id}/progress")
def run_progress(request: Request, state: StateDep, viewer: ViewerDep, run_id: RunId):
    """The live part of a run's page; once the run has ended, htmx reloads the whole page."""
    run = runs.get_run(state.settings, viewer.tenant, run_id)
    response = HTMLResponse(render("_progress.html", run=run, live=not is_terminal(run)))
    if is_terminal(run) and request.headers.get("hx-request"):
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/evaluations/{run_id}/results.csv")
def run_csv(state: StateDep, viewer: ViewerDep, run_id: RunId, status: Filter = None, category: Filter = None):
    detail = runs.get_run(state.settings, viewer.tenant, run_id, include_results=True)
    return Response(
        results_csv(detail, status=status or None, category=category or None),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="evaluation-{run_id}-results.csv"'},
    )


@router.post("/evaluations/{run_id}/cancel")
def cancel_run(state: StateDep, viewer: ActionDep, run_id: RunId) -> Response:
    cancel = cancel_service()
    if cancel is None:
        raise CancelNotAvailable("cancelling runs is not available in this deployment")
    cancel(state.settings, viewer.tenant, run_id)
    return RedirectResponse(f"/evaluations/{run_id}", status_code=303)
