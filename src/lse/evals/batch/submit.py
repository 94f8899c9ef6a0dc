"""Submitting a prepared batch: upload its request file, create the provider batch, record both.

Persist before every remote step, and look before acting again:
- the time of the first upload attempt is committed before the upload; a later attempt
  first looks for a file of that name (`lse-<client key>.jsonl`) uploaded since then;
- the time of the first create attempt is committed before `batches.create`; a later
  attempt (after a crash, a lost answer, a 5xx) first looks for a batch carrying our
  client key in its metadata (`batches.list`). Only when none is found, and the attempt is
  older than `recover_grace_s`, is the batch created again. So a run never pays twice.
A create the provider refused outright (4xx) abandons the batch with the provider's message;
a transient failure leaves it as it is for the next pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import openai

from lse.errors import LseError, NotFoundError
from lse.evals.batch.config import BatchConfig
from lse.evals.batch.objects_io import open_object
from lse.evals.batch.remote import call_remote
from lse.evals.batch.repository import BatchRepository
from lse.evals.batch.states import ABANDONED, NOT_YET_CREATED, PREPARED, SUBMITTED, UPLOADED
from lse.evals.batch.times import epoch, from_epoch, seconds_between
from lse.objects import ObjectStore
from lse.providers.batches import (
    KEY_FIELD,
    BatchEndpoint,
    BatchInfo,
    create_batch,
    find_batch_by_key,
    find_batch_file,
    upload_batch_file,
)
from lse.providers.errors import ProviderCallError
from lse.providers.retry_rules import classify
from lse.retry import RetryKind
from lse.store.models.batches import EvaluationBatch
from lse.store.models.evaluation import utcnow


@dataclass(frozen=True)
class SubmitResult:
    batch_id: int
    state: str  # the row's state after this call
    provider_batch_id: str | None = None
    recovered: bool = False  # the provider batch was found by its key, not created by this call
    waiting: bool = False  # a create may have landed and is not listed yet: nothing created this time
    message: str | None = None  # why nothing (more) happened
    stops_run: bool = False  # the provider refused in a way no retry fixes (auth, quota)


class _NotListedYet(LseError):
    """A lost create is not (yet) in `batches.list`; creating again now could pay twice."""


class _LeaseLost(LseError):
    """Another process took the row over; this one must not call the provider for it."""


def request_filename(row: EvaluationBatch) -> str:
    return f"lse-{row.client_key}.jsonl"


def batch_metadata(row: EvaluationBatch) -> dict[str, str]:
    return {
        KEY_FIELD: row.client_key,
        "lse_run": str(row.run_id),
        "lse_stage": row.stage,
        "lse_round": str(row.round),
        "lse_part": str(row.part),
    }


def submit_batch(
    repo: BatchRepository,
    client: openai.OpenAI,
    store: ObjectStore,
    batch_id: int,
    *,
    owner: str,
    config: BatchConfig,
    now: Callable[[], datetime] = utcnow,
) -> SubmitResult:
    """Move one batch from `prepared`/`uploaded` to `submitted` (or `abandoned`), under its lease."""
    if not repo.acquire(batch_id, owner, now=now(), lease_s=config.lease_s, states=NOT_YET_CREATED):
        row = repo.get(batch_id)
        return SubmitResult(batch_id, row.state, row.provider_batch_id, message="not submittable now (state or lease)")
    try:
        row = repo.get(batch_id)
        if row.state == PREPARED:
            outcome = _upload(repo, client, store, row, owner, config, now)
            if outcome is not None:
                return outcome
            row = repo.get(batch_id)
        return _create(repo, client, row, owner, config, now)
    finally:
        repo.release(batch_id, owner)


def _refused(exc: ProviderCallError) -> bool:
    """A 4xx the provider will not change its mind on (not auth or quota: those stop the run)."""
    return classify(exc).kind is RetryKind.PERMANENT


def _abandon(repo: BatchRepository, row: EvaluationBatch, owner: str, message: str) -> SubmitResult:
    repo.update(row.id, owner, expect_state=row.state, state=ABANDONED, outcome=message)
    return SubmitResult(row.id, ABANDONED, message=message)


def _failure(row: EvaluationBatch, exc: BaseException, doing: str) -> SubmitResult:
    decision = classify(exc)
    return SubmitResult(row.id, row.state, message=f"{doing}: {exc}", stops_run=decision.stops_run)


def _upload(
    repo: BatchRepository,
    client: openai.OpenAI,
    store: ObjectStore,
    row: EvaluationBatch,
    owner: str,
    config: BatchConfig,
    now: Callable[[], datetime],
) -> SubmitResult | None:
    filename = request_filename(row)
    first = row.upload_attempted_at

    def step(_attempt: int) -> str:
        nonlocal first
        if first is not None:
            found = find_batch_file(client, filename, since=epoch(first) - int(config.clock_skew_s))
            if found is not None:
                return found
        else:
            first = now()
            if not repo.update(row.id, owner, expect_state=PREPARED, upload_attempted_at=first):
                raise _LeaseLost("lost the lease before uploading")
        with open_object(store, row.request_key) as fh:
            return upload_batch_file(client, filename, fh)

    try:
        file_id = call_remote(step, config.retry)
    except _LeaseLost as exc:
        return SubmitResult(row.id, row.state, message=str(exc))
    except NotFoundError as exc:
        return _abandon(repo, row, owner, f"the request file {row.request_url} is gone from the object store: {exc}")
    except ProviderCallError as exc:
        if _refused(exc):
            return _abandon(repo, row, owner, f"the provider refused the request file: {exc}")
        return _failure(row, exc, "upload")
    if not repo.update(row.id, owner, expect_state=PREPARED, state=UPLOADED, input_file_id=file_id, uploaded_at=now()):
        return SubmitResult(row.id, row.state, message="lost the lease after uploading")
    return None


def _create(
    repo: BatchRepository,
    client: openai.OpenAI,
    row: EvaluationBatch,
    owner: str,
    config: BatchConfig,
    now: Callable[[], datetime],
) -> SubmitResult:
    assert row.input_file_id is not None
    first = row.create_attempted_at
    recovered = False

    def step(_attempt: int) -> BatchInfo:
        nonlocal first, recovered
        if first is not None:
            found = find_batch_by_key(client, row.client_key, since=epoch(first) - int(config.clock_skew_s))
            if found is not None:
                recovered = True
                return found
            if seconds_between(first, now()) < config.recover_grace_s:
                raise _NotListedYet("a create attempt may have landed and is not listed yet")
        else:
            first = now()
            if not repo.update(row.id, owner, expect_state=UPLOADED, create_attempted_at=first):
                raise _LeaseLost("lost the lease before creating")
        assert row.input_file_id is not None
        return create_batch(
            client,
            input_file_id=row.input_file_id,
            endpoint=cast(BatchEndpoint, row.endpoint),
            metadata=batch_metadata(row),
        )

    try:
        info = call_remote(step, config.retry)
    except _NotListedYet as exc:
        return SubmitResult(row.id, row.state, waiting=True, message=str(exc))
    except _LeaseLost as exc:
        return SubmitResult(row.id, row.state, message=str(exc))
    except ProviderCallError as exc:
        if _refused(exc):
            return _abandon(repo, row, owner, f"the provider refused to create the batch: {exc}")
        return _failure(row, exc, "create")
    at = now()
    recorded = repo.update(
        row.id,
        owner,
        expect_state=UPLOADED,
        state=SUBMITTED,
        provider_batch_id=info.id,
        provider_status=info.status,
        expires_at=from_epoch(info.expires_at),
        request_counts=info.request_counts,
        submitted_at=at,
        next_poll_at=at + timedelta(seconds=config.poll_s),
        updated_at=at,
    )
    if not recorded:
        return SubmitResult(row.id, row.state, info.id, recovered, message="lost the lease after creating")
    return SubmitResult(row.id, SUBMITTED, info.id, recovered)
