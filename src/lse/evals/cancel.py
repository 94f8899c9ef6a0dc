"""Cancelling an evaluation run on a user's behalf: the one service the API, the CLI and the
web viewer call.

The request is recorded on the run (`cancel_requested_at`) and the run ends `cancelled`
when whoever executes it has stopped it: a fast run's worker sees it at its next heartbeat
and stops between calls (finished items kept); a batch run's next step cancels its provider
batches, collects what they paid for and ends the run (the pollers ask the provider again
until it has taken every cancel). A run nobody has started yet ends `cancelled` at once.
Cancelling twice is the same as once; a run already completed or failed cannot be cancelled.
"""

from __future__ import annotations

from sqlalchemy import update

from lse.errors import ConflictError
from lse.evals.pipeline.repository import RunRepository
from lse.evals.pipeline.status import RunStatus
from lse.evals.runs import find_run, run_public
from lse.evals.schemas import RunPublic
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun, utcnow
from lse.tenancy import Tenant

CANCELLED_BEFORE_START = "cancelled by the user before it started"


def cancel_run(settings: Settings, tenant: Tenant | None, run_id: int) -> RunPublic:
    """Ask for run `run_id` to be cancelled (see the module docstring); the run as it is now.

    `tenant=None` is the operator's unscoped view (CLI)."""
    engine = get_engine(settings)
    now = utcnow()
    with unit_of_work(engine) as s:
        run = find_run(s, tenant, run_id)
        if run.status in (RunStatus.COMPLETED, RunStatus.FAILED):
            raise ConflictError(
                f"evaluation run {run_id} is already {run.status}: there is nothing to cancel", code="run_finished"
            )
        s.execute(
            update(EvaluationRun)
            .where(
                EvaluationRun.id == run_id,
                EvaluationRun.status.in_((RunStatus.PENDING, RunStatus.PROCESSING)),
                EvaluationRun.cancel_requested_at.is_(None),
            )
            .values(cancel_requested_at=now)
            .execution_options(synchronize_session=False)
        )
    with unit_of_work(engine) as s:  # nobody took it yet: it ends here (a claim racing this loses or wins whole)
        ended = s.execute(
            update(EvaluationRun)
            .where(EvaluationRun.id == run_id, EvaluationRun.status == RunStatus.PENDING)
            .values(status=RunStatus.CANCELLED, completed_at=now, error_message=CANCELLED_BEFORE_START)
            .execution_options(synchronize_session=False)
        )
    if getattr(ended, "rowcount", 0) == 1:
        RunRepository(engine).fail_unfinished(run_id, "not attempted: the run was cancelled", "run_cancelled")
    with unit_of_work(engine) as s:
        return run_public(find_run(s, tenant, run_id))
