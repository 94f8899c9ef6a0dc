"""A run's export status per target, as `GET /evaluations/{id}` (`tracing`) and
`lse eval show` report it: {"langfuse": {exported, pending, failed, state, last_error},
"langsmith": {...}}. A target that is not configured for the run's project is None.
Read from the outbox only: reporting a status never calls a target.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun
from lse.store.models.tracing import TracingExport
from lse.tracing.outbox import item_counts
from lse.tracing.targets import TARGET_NAMES, resolve_targets


def tracing_status(settings: Settings, run_id: int) -> dict[str, dict[str, Any] | None]:
    """The export status of one run (the caller has already checked the tenant may see it)."""
    out: dict[str, dict[str, Any] | None] = dict.fromkeys(TARGET_NAMES)
    with unit_of_work(get_engine(settings)) as session:
        run = session.get(EvaluationRun, run_id)
        if run is None:
            return out
        targets = resolve_targets(settings, run.organization_id, run.project_id)
        for name in TARGET_NAMES:
            target = targets.get(name)
            if target is None:
                continue
            counts = item_counts(session, run_id, target.destination)
            export = session.scalar(
                select(TracingExport).where(
                    TracingExport.run_id == run_id, TracingExport.destination == target.destination
                )
            )
            counts = counts or {}
            out[name] = {
                "exported": counts.get("confirmed", 0),
                "pending": counts.get("pending", 0) + counts.get("sent", 0),
                "failed": counts.get("failed", 0),
                "state": export.state if export is not None else "not_queued",
                "last_error": export.last_error if export is not None else None,
            }
    return out


def remote_dataset_ids(settings: Settings, dataset_id: int) -> dict[str, str | None]:
    """The dataset's id in each configured target (None until pushed), e.g. Kaapi's
    `langfuse_dataset_id`. Read from the outbox only."""
    from lse.store.models.evaluation import EvaluationDataset
    from lse.store.models.tracing import TracingDataset

    out: dict[str, str | None] = dict.fromkeys(TARGET_NAMES)
    with unit_of_work(get_engine(settings)) as session:
        dataset = session.get(EvaluationDataset, dataset_id)
        if dataset is None:
            return out
        targets = resolve_targets(settings, dataset.organization_id, dataset.project_id)
        for name in TARGET_NAMES:
            target = targets.get(name)
            if target is not None:
                out[name] = session.scalar(
                    select(TracingDataset.remote_id).where(
                        TracingDataset.dataset_id == dataset_id, TracingDataset.destination == target.destination
                    )
                )
    return out
