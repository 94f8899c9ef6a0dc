"""One step for one provider batch, whatever state it is in: the loop the pollers run.

`advance_batch` submits a prepared or uploaded batch, polls a submitted one when due, and
collects a terminal one; a collected or abandoned batch has nothing left to do. A provider
failure never escapes a step: it is in the step's note and the row, for the next pass. Each step
takes the row's lease, so any number of processes may call this for the same batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import openai

from lse.evals.batch.collect import BatchNotTerminal, CollectResult, collect_batch
from lse.evals.batch.config import BatchConfig
from lse.evals.batch.poll import PollResult, poll_batch
from lse.evals.batch.repository import BatchRepository
from lse.evals.batch.states import NOT_YET_CREATED, SUBMITTED, TERMINAL
from lse.evals.batch.submit import SubmitResult, submit_batch
from lse.objects import ObjectStore
from lse.providers.errors import ProviderCallError
from lse.store.models.evaluation import utcnow


@dataclass(frozen=True)
class Step:
    batch_id: int
    state: str  # the row's state after the step
    submitted: SubmitResult | None = None
    polled: PollResult | None = None
    collected: CollectResult | None = None
    note: str | None = None


def advance_batch(
    repo: BatchRepository,
    client: openai.OpenAI,
    store: ObjectStore,
    batch_id: int,
    *,
    owner: str,
    config: BatchConfig,
    now: Callable[[], datetime] = utcnow,
) -> Step:
    row = repo.get(batch_id)
    if row.state in NOT_YET_CREATED:
        sub = submit_batch(repo, client, store, batch_id, owner=owner, config=config, now=now)
        return Step(batch_id, sub.state, submitted=sub, note=sub.message)
    if row.state == SUBMITTED:
        polled = poll_batch(repo, client, batch_id, owner=owner, config=config, now=now)
        row = repo.get(batch_id)
        if row.state != TERMINAL:
            return Step(batch_id, row.state, polled=polled, note=polled.error)
    if row.state == TERMINAL:
        try:
            got = collect_batch(repo, client, store, batch_id, owner=owner, config=config, now=now)
        except BatchNotTerminal as exc:
            return Step(batch_id, repo.get(batch_id).state, note=str(exc))
        except ProviderCallError as exc:  # a download failed after its retries: the next pass tries again
            return Step(batch_id, repo.get(batch_id).state, note=f"collect: {exc}")
        return Step(batch_id, repo.get(batch_id).state, collected=got)
    return Step(batch_id, row.state)
