"""/api/v1/evaluations: start evaluation runs and read their progress, scores, cost, results.

Kaapi's contract: a create answers 200 with the run `processing` (accepted by an engine);
`get_trace_info=true` adds per-item `score.traces[]` (`export_format=grouped` also
`score.grouped_traces[]`) for a completed run, and answers 200 `success: false` with the
run for any other; `resync_score` or `grouped` without `get_trace_info` is a 400. lse's
richer per-item view stays under `include_results=true`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from lse.api.deps import SettingsDep, TenantDep
from lse.api.envelope import APIResponse, failure, ok
from lse.errors import BadRequest, LseError
from lse.evals import runs
from lse.evals.results_csv import results_csv
from lse.evals.schemas import RunCreate, RunDetail, RunPublic
from lse.schema_types import MAX_ID
from lse.tracing import tracing_status
from lse.worker import dispatch

router = APIRouter(prefix="/evaluations", tags=["evaluations"])

RunId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=APIResponse[RunPublic])
@router.post("/", response_model=APIResponse[RunPublic], include_in_schema=False)
def start_evaluation(body: RunCreate, settings: SettingsDep, tenant: TenantDep):
    """Create a run and hand it to the engine of its run_mode; it is returned `processing`."""
    run = runs.create_run(settings, tenant, body, available_modes=dispatch.available_modes(settings))
    try:
        dispatch.submit_run(settings, run.id)
    except LseError as exc:
        runs.mark_failed(settings, run.id, f"could not start the run: {exc}")
        raise
    except Exception as exc:  # a broker or pool failure: the run says so, the client gets the envelope
        runs.mark_failed(settings, run.id, f"could not start the run: {exc}")
        raise LseError(f"run {run.id} was created but could not be started: {exc}", code="run_submit_failed") from exc
    if run.status == "pending":  # accepted by its engine; GET shows pending until a worker claims it
        run = run.model_copy(update={"status": "processing"})
    return ok(run)


@router.get("", response_model=APIResponse[list[RunPublic]])
@router.get("/", response_model=APIResponse[list[RunPublic]], include_in_schema=False)
def list_evaluations(
    settings: SettingsDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(description="At most 100: larger values are clamped, as pages are.")] = 50,
    offset: int = 0,
    dataset_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
):
    rows = runs.list_runs(settings, tenant, limit=limit, offset=offset, dataset_id=dataset_id)
    page = max(1, min(limit, runs.MAX_PAGE))
    return ok(rows, metadata={"limit": page, "offset": max(0, offset), "count": len(rows)})


@router.get("/{evaluation_id}", response_model=APIResponse[RunDetail])
def get_evaluation(
    evaluation_id: RunId,
    settings: SettingsDep,
    tenant: TenantDep,
    include_results: bool = False,
    get_trace_info: bool = False,
    resync_score: bool = False,
    export_format: Literal["row", "grouped"] = "row",
):
    """Status, progress, score and cost; per-item results Kaapi's way or lse's."""
    if resync_score and not get_trace_info:
        raise BadRequest("resync_score=true requires get_trace_info=true", code="bad_request")
    if export_format == "grouped" and not get_trace_info:
        raise BadRequest("export_format=grouped requires get_trace_info=true", code="bad_request")
    detail, problem = runs.read_run(
        settings,
        tenant,
        evaluation_id,
        include_results=include_results,
        trace_info=get_trace_info,
        export_format=export_format,
    )
    detail.tracing = tracing_status(settings, detail.id)
    if problem:
        return failure(detail, problem, "run_not_completed")
    return ok(detail)


@router.get("/{evaluation_id}/results.csv", response_class=PlainTextResponse)
def evaluation_results_csv(evaluation_id: RunId, settings: SettingsDep, tenant: TenantDep):
    """Every item's outcome as CSV; cells that a spreadsheet would run as formulas are
    neutralised (docs/security.md)."""
    detail = runs.get_run(settings, tenant, evaluation_id, include_results=True)
    return PlainTextResponse(
        results_csv(detail),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="evaluation-{evaluation_id}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/{evaluation_id}/cancel", response_model=APIResponse[RunPublic])
def cancel_evaluation(evaluation_id: RunId, settings: SettingsDep, tenant: TenantDep):
    """Cancel a run (an lse extension; Kaapi has no cancel). A run not started yet ends
    `cancelled` at once; a running one shows `cancel_requested_at` and ends `cancelled` once
    stopped — a fast run between calls, a batch run once its provider batches are cancelled
    and their paid results collected. 409 `run_finished` if it already completed or failed."""
    return ok(dispatch.cancel_run(settings, tenant, evaluation_id))
