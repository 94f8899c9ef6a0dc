"""Polling a submitted batch: one `batches.retrieve` under the row's lease, never fatal.

Only the provider's terminal statuses end a batch, or our deadline: still unfinished
`deadline_grace_s` after its `expires_at` (the provider promised an answer by then). At the
deadline lse asks the provider to cancel it and keeps polling, so the `cancelled` batch's
partial (paid) output is still collected; if even that does not come within
`CANCEL_WAIT_S`, the batch is given up as terminal and collected as if expired. A failed retrieve (5xx, timeout, a 404 blip) only counts a failure, notes
why, and moves the next poll later; a 404 or a refusal is also kept as an anomaly.
Cadence: `poll_s` for a young batch, three times that after an hour, ten times after six
hours (at most 30 minutes), and back to `poll_s` once the provider is finalizing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import openai

from lse.evals.batch.config import BatchConfig
from lse.evals.batch.repository import BatchRepository
from lse.evals.batch.states import DEADLINE, PROVIDER_TERMINAL, SUBMITTED, TERMINAL
from lse.evals.batch.times import as_utc, from_epoch, seconds_between
from lse.providers.batches import BatchInfo, cancel_batch, retrieve_batch
from lse.providers.errors import ProviderCallError
from lse.store.models.batches import EvaluationBatch
from lse.store.models.evaluation import utcnow

MAX_INTERVAL_S = 1800.0
WINDOW_S = 86_400.0
CANCEL_WAIT_S = 3600.0


@dataclass(frozen=True)
class PollResult:
    batch_id: int
    polled: bool  # False: not due, not submitted, or another poller holds it
    provider_status: str | None = None
    terminal: bool = False
    error: str | None = None


def poll_interval(age_s: float, base_s: float, provider_status: str | None = None) -> float:
    if provider_status == "finalizing" or age_s < 3600:
        return base_s
    if age_s < 6 * 3600:
        return min(MAX_INTERVAL_S, 3 * base_s)
    return min(MAX_INTERVAL_S, 10 * base_s)


def backoff_s(failures: int, base_s: float) -> float:
    return min(MAX_INTERVAL_S, base_s * 2 ** min(failures, 10))


def add_anomaly(anomalies: list[Any] | None, kind: str, message: str, at: datetime) -> list[dict[str, Any]]:
    """`anomalies` with this kind counted once more (one entry per kind, not one per poll)."""
    out = [dict(a) for a in (anomalies or [])]
    for a in out:
        if a.get("kind") == kind:
            a["count"] = int(a.get("count", 1)) + 1
            a["last_at"] = at.isoformat()
            a["message"] = message
            return out
    out.append({"kind": kind, "message": message, "count": 1, "first_at": at.isoformat(), "last_at": at.isoformat()})
    return out


def _deadline(row: EvaluationBatch, expires_at: int | None, config: BatchConfig) -> datetime | None:
    if expires_at is not None:
        base = datetime.fromtimestamp(expires_at, UTC)
    elif row.expires_at is not None:
        base = as_utc(row.expires_at)
    elif row.submitted_at is not None:
        base = as_utc(row.submitted_at) + timedelta(seconds=WINDOW_S)
    else:
        return None
    return base + timedelta(seconds=config.deadline_grace_s)


def _asked_to_cancel_at(anomalies: list[Any] | None) -> datetime | None:
    for a in anomalies or []:
        if a.get("kind") == DEADLINE:
            return datetime.fromisoformat(a["first_at"])
    return None


def _seen(info: BatchInfo) -> dict[str, Any]:
    return {
        "provider_status": info.status,
        "output_file_id": info.output_file_id,
        "error_file_id": info.error_file_id,
        "request_counts": info.request_counts,
        "usage": info.usage,
        "errors": info.errors,
        "expires_at": from_epoch(info.expires_at),
    }


def poll_batch(
    repo: BatchRepository,
    client: openai.OpenAI,
    batch_id: int,
    *,
    owner: str,
    config: BatchConfig,
    now: Callable[[], datetime] = utcnow,
    force: bool = False,
) -> PollResult:
    """Poll one batch if it is due (or `force`) and nobody else holds it."""
    at = now()
    if not repo.acquire(batch_id, owner, now=at, lease_s=config.lease_s, states=[SUBMITTED]):
        return PollResult(batch_id, polled=False)
    try:
        row = repo.get(batch_id)
        if not force and row.next_poll_at is not None and as_utc(row.next_poll_at) > at:
            return PollResult(batch_id, polled=False, provider_status=row.provider_status)
        assert row.provider_batch_id is not None
        values: dict[str, Any] = {"last_polled_at": at, "updated_at": at}
        error: str | None = None
        status = row.provider_status
        expires_at: int | None = None
        try:
            info = retrieve_batch(client, row.provider_batch_id)
        except ProviderCallError as exc:
            error = str(exc)
            failures = (row.poll_failures or 0) + 1
            values.update(
                poll_failures=failures,
                last_poll_error=error,
                next_poll_at=at + timedelta(seconds=backoff_s(failures, config.poll_s)),
            )
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (408, 409, 429):
                values["anomalies"] = add_anomaly(row.anomalies, f"retrieve_http_{exc.status}", error, at)
        else:
            status, expires_at = info.status, info.expires_at
            values.update(_seen(info), poll_failures=0, last_poll_error=None)
            if info.status in PROVIDER_TERMINAL:
                values.update(state=TERMINAL, terminal_at=at, next_poll_at=None)
                repo.update(batch_id, owner, expect_state=SUBMITTED, **values)
                return PollResult(batch_id, True, info.status, True)
            age = seconds_between(row.submitted_at or row.created_at, at)
            values["next_poll_at"] = at + timedelta(seconds=poll_interval(age, config.poll_s, info.status))
        deadline = _deadline(row, expires_at, config)
        if deadline is not None and at > deadline:
            _past_deadline(client, row, at, values, error or f"still {status}")
        repo.update(batch_id, owner, expect_state=SUBMITTED, **values)
        return PollResult(batch_id, True, status, values.get("state") == TERMINAL, error=error)
    finally:
        repo.release(batch_id, owner)


def _past_deadline(client: openai.OpenAI, row: EvaluationBatch, at: datetime, values: dict[str, Any], why: str) -> None:
    """First time: ask the provider to cancel (best effort). After CANCEL_WAIT_S: give the batch up."""
    assert row.provider_batch_id is not None
    anomalies = values.get("anomalies", row.anomalies)
    asked = _asked_to_cancel_at(anomalies)
    if asked is None:
        note = f"past its deadline ({why}): asked the provider to cancel it"
        try:
            cancel_batch(client, row.provider_batch_id)
        except ProviderCallError as exc:
            note += f" (the cancel failed: {exc})"
        values["anomalies"] = add_anomaly(anomalies, DEADLINE, note, at)
        return
    if seconds_between(asked, at) > CANCEL_WAIT_S:
        note = (
            f"given up {CANCEL_WAIT_S:.0f} s after asking to cancel it past its deadline ({why}); collected as expired"
        )
        values.update(state=TERMINAL, terminal_at=at, next_poll_at=None, outcome=note)
