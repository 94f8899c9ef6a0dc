"""Cancelling a provider batch on the user's behalf, whatever step it has reached.

Not yet created: the row is abandoned, unless a create was attempted, in which case the
batch is first looked for by its client key (a lost create must not run on, unpaid-for
and unrecorded) and, if found, recorded and cancelled. Submitted: `batches.cancel`, and the
next poll is due at once; the provider moves it to `cancelled` (keeping what ran, which
collecting keeps too). `cancel_requested_at` marks the cancel as the user's, so requests it
stopped become failed items rather than going to another round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import openai

from lse.evals.batch.config import BatchConfig
from lse.evals.batch.repository import BatchRepository
from lse.evals.batch.states import ABANDONED, PREPARED, PROVIDER_TERMINAL, SUBMITTED, UPLOADED
from lse.evals.batch.times import epoch, from_epoch
from lse.providers.batches import cancel_batch, find_batch_by_key
from lse.providers.errors import ProviderCallError
from lse.store.models.evaluation import utcnow

CANCELLED_BY_USER = "cancelled by the user before the provider ran it"


@dataclass(frozen=True)
class CancelResult:
    batch_id: int
    state: str  # the row's state afterwards
    done: bool  # False: another process holds the row right now; ask again


def cancel_batch_row(
    repo: BatchRepository,
    client: openai.OpenAI,
    batch_id: int,
    *,
    owner: str,
    config: BatchConfig,
    now: Callable[[], datetime] = utcnow,
) -> CancelResult:
    """Cancel one batch (raises ProviderCallError if the provider cannot be reached: ask again)."""
    at = now()
    if not repo.acquire(batch_id, owner, now=at, lease_s=config.lease_s, states=[PREPARED, UPLOADED, SUBMITTED]):
        row = repo.get(batch_id)
        busy = row.state in (PREPARED, UPLOADED, SUBMITTED)  # else: already past the point of cancelling
        return CancelResult(batch_id, row.state, done=not busy)
    try:
        row = repo.get(batch_id)
        if row.state in (PREPARED, UPLOADED):
            found = None
            if row.create_attempted_at is not None:
                found = find_batch_by_key(
                    client, row.client_key, since=epoch(row.create_attempted_at) - int(config.clock_skew_s)
                )
            if found is None:
                repo.update(
                    batch_id,
                    owner,
                    expect_state=row.state,
                    state=ABANDONED,
                    outcome=CANCELLED_BY_USER,
                    cancel_requested_at=at,
                    updated_at=at,
                )
                return CancelResult(batch_id, ABANDONED, True)
            repo.update(
                batch_id,
                owner,
                expect_state=row.state,
                state=SUBMITTED,
                provider_batch_id=found.id,
                provider_status=found.status,
                expires_at=from_epoch(found.expires_at),
                submitted_at=at,
                updated_at=at,
            )
            row = repo.get(batch_id)
        assert row.provider_batch_id is not None
        if row.provider_status not in PROVIDER_TERMINAL:
            status: str | None
            try:
                status = cancel_batch(client, row.provider_batch_id).status
            except ProviderCallError as exc:
                if exc.status != 400:  # 400: it already finished; the next poll says how
                    raise
                status = row.provider_status
            repo.update(
                batch_id,
                owner,
                expect_state=SUBMITTED,
                cancel_requested_at=at,
                provider_status=status,
                next_poll_at=at,
                updated_at=at,
            )
        return CancelResult(batch_id, SUBMITTED, True)
    finally:
        repo.release(batch_id, owner)
