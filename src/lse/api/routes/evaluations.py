"""/api/v1/evaluations: start evaluation runs and read their progress, scores, cost, results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from lse.api.deps import SettingsDep, TenantDep
from lse.api.envelope import APIResponse, ok
from lse.errors import LseError
from lse.evals import runs
from lse.evals.schemas import RunCreate, RunDetail, RunPublic
from lse.worker import dispatch

router = APIRouter(prefix="/evaluations", tags=["evaluations"])


@router.post("", status_code=201, response_model=APIResponse[RunPublic])
def start_evaluation(body: RunCreate, settings: SettingsDep, tenant: TenantDep):
    """Create a pending run and hand it to the engine of its run_mode."""
    run = runs.create_run(settings, tenant, body, available_modes=dispatch.available_modes(settings))
    try:
        dispatch.submit_run(settings, run.id)
    except LseError as exc:
        runs.mark_failed(settings, run.id, f"could not start the run: {exc}")
        raise
    except Exception as exc:  # a broker or pool failure: the run says so, the client gets the envelope
        runs.mark_failed(settings, run.id, f"could not start the run: {exc}")
        raise LseError(f"run {run.id} was created but could not be started: {exc}", code="run_submit_failed") from exc
    return ok(run)


@router.get("", response_model=APIResponse[list[RunPublic]])
def list_evaluations(
    settings: SettingsDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    dataset_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
):
    rows = runs.list_runs(settings, tenant, limit=limit, offset=offset, dataset_id=dataset_id)
    return ok(rows, metadata={"limit": limit, "offset": offset, "count": len(rows)})


@router.get("/{evaluation_id}", response_model=APIResponse[RunDetail])
def get_evaluation(
    evaluation_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    settings: SettingsDep,
    tenant: TenantDep,
    include_results: bool = False,
):
    """Status, progress, score and cost; with include_results, every item's outcome."""
    return ok(runs.get_run(settings, tenant, evaluation_id, include_results=include_results))


@router.post("/{evaluation_id}/cancel", response_model=APIResponse[RunPublic])
def cancel_evaluation(
    evaluation_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    settings: SettingsDep,
    tenant: TenantDep,
):
    """Cancel a run (an lse extension; Kaapi has no cancel). A run not started yet ends
    `cancelled` at once; a running one shows `cancel_requested_at` and ends `cancelled` once
    stopped — a fast run between calls, a batch run once its provider batches are cancelled
    and their paid results collected. 409 `run_finished` if it already completed or failed."""
    return ok(dispatch.cancel_run(settings, tenant, evaluation_id))
