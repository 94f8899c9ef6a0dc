"""A batch run's provider batches as the API and `lse eval show` list them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lse.evals.schemas import BatchPublic
from lse.store.models.batches import EvaluationBatch


def batches_public(session: Session, run_id: int) -> list[BatchPublic]:
    rows = session.scalars(
        select(EvaluationBatch)
        .where(EvaluationBatch.run_id == run_id)
        .order_by(EvaluationBatch.stage, EvaluationBatch.round, EvaluationBatch.part)
    )
    return [
        BatchPublic(
            id=r.id,
            stage=r.stage,
            round=r.round,
            part=r.part,
            state=r.state,
            provider_status=r.provider_status,
            provider_batch_id=r.provider_batch_id,
            n_requests=r.n_requests,
            request_counts=r.request_counts,
            expires_at=r.expires_at,
            submitted_at=r.submitted_at,
            terminal_at=r.terminal_at,
            collected_at=r.collected_at,
            cancel_requested_at=r.cancel_requested_at,
            next_poll_at=r.next_poll_at,
            poll_failures=r.poll_failures or 0,
            last_poll_error=r.last_poll_error,
            outcome=r.outcome,
            anomalies=list(r.anomalies or []),
        )
        for r in rows
    ]
