"""Collecting a terminal batch: copy both result files, judge every line, record every outcome.

Order, each step persisted before the next:
1. each of the output and error files is streamed to disk and stored in the object store,
   and its copy's URL recorded (the provider deletes its own after 30 days; a file already
   gone is an anomaly and its lines end `missing`);
2. the stored copies are read line by line, each line judged by content, every custom_id
   reconciled, counts and usage checked;
3. all request outcomes, the anomalies and the state `collected` are written in one
   transaction, compare-and-set on `terminal`.
Collecting again reads the stored copies, recomputes the same result and writes nothing.
The result is item results in fast mode's shape plus the items for the next round.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import openai

from lse.errors import LseError
from lse.evals.batch.config import BatchConfig
from lse.evals.batch.lines import BadLine, LineVerdict, iter_result_lines, judge_line
from lse.evals.batch.objects_io import open_object, put_file
from lse.evals.batch.outcomes import Decisions, RetryItem, decide_abandoned, decide_lines, decide_rejected
from lse.evals.batch.reconcile import reconcile
from lse.evals.batch.remote import call_remote
from lse.evals.batch.repository import BatchRepository, RequestOutcome
from lse.evals.batch.states import ABANDONED, COLLECTED, DEADLINE, PROVIDER_TERMINAL, TERMINAL
from lse.evals.pipeline.records import ItemOutcome
from lse.objects import ObjectStore
from lse.providers.batches import download_file
from lse.providers.errors import ProviderCallError
from lse.providers.usage import Usage
from lse.store.models.batches import EvaluationBatch
from lse.store.models.evaluation import utcnow


class BatchNotTerminal(LseError):
    code = "batch_not_terminal"


@dataclass
class CollectResult:
    batch_id: int
    provider_status: str  # the provider's terminal status, "deadline", or "abandoned" (never created)
    round: int
    items: list[ItemOutcome]  # final item results (succeeded and failed), fast mode's shape
    retry: list[RetryItem]  # items for the next round
    defer: bool  # the retries wait and go smaller (the enqueued-token limit was hit)
    fatal: str | None  # the run must fail with this reason
    anomalies: list[dict[str, Any]]
    usage: Usage  # what this batch's lines were billed
    collected_now: bool  # False: collected before; recomputed, nothing written
    counts: dict[str, int] = field(default_factory=dict)


def result_key(row: EvaluationBatch, which: str) -> str:
    base = row.request_key.rsplit("/", 1)[0]
    return f"{base}/{which}.jsonl"


def collect_batch(
    repo: BatchRepository,
    client: openai.OpenAI,
    store: ObjectStore,
    batch_id: int,
    *,
    owner: str,
    config: BatchConfig,
    now: Callable[[], datetime] = utcnow,
) -> CollectResult:
    row = repo.get(batch_id)
    if row.state in (COLLECTED, ABANDONED):
        return _evaluate(repo, store, row, config, collected_now=False)[0]
    if row.state != TERMINAL:
        raise BatchNotTerminal(f"provider batch row {batch_id} is {row.state}, not terminal: nothing to collect yet")
    if not repo.acquire(batch_id, owner, now=now(), lease_s=config.lease_s, states=[TERMINAL]):
        raise BatchNotTerminal(f"provider batch row {batch_id} is being collected by another process")
    try:
        row = repo.get(batch_id)
        anomalies = list(row.anomalies or [])
        for which, file_id in (("output", row.output_file_id), ("errors", row.error_file_id)):
            if file_id is None or getattr(row, f"{_column(which)}_key") is not None:
                continue
            note = _copy_result_file(repo, client, store, row, owner, which, file_id, config)
            if note is not None:
                anomalies.append(note)
        row = repo.get(batch_id)
        result, outcomes = _evaluate(repo, store, row, config, collected_now=True, anomalies=anomalies)
        if not repo.record_collected(
            batch_id, owner, outcomes, now=now(), anomalies=result.anomalies, expect_state=TERMINAL
        ):
            raise BatchNotTerminal(f"provider batch row {batch_id} was collected by another process meanwhile")
        return result
    finally:
        repo.release(batch_id, owner)


def _column(which: str) -> str:
    return "output" if which == "output" else "error"


def _copy_result_file(
    repo: BatchRepository,
    client: openai.OpenAI,
    store: ObjectStore,
    row: EvaluationBatch,
    owner: str,
    which: str,
    file_id: str,
    config: BatchConfig,
) -> dict[str, Any] | None:
    """Stream the provider file into the object store and record the copy; an anomaly if it is gone."""
    key = result_key(row, which)
    with tempfile.TemporaryDirectory(prefix="lse-batch-") as tmp:
        path = Path(tmp) / f"{which}.jsonl"
        with path.open("wb") as fh:

            def step(_attempt: int) -> int:
                fh.seek(0)
                fh.truncate()
                return download_file(client, file_id, fh.write)

            try:
                call_remote(step, config.retry)
            except ProviderCallError as exc:
                if exc.status == 404:
                    return {
                        "kind": f"{which}_file_gone",
                        "message": f"the {which} file {file_id} is gone from the provider: {exc}",
                        "count": 1,
                    }
                raise
        url = put_file(store, key, path)
    col = _column(which)
    if not repo.update(row.id, owner, expect_state=TERMINAL, **{f"{col}_key": key, f"{col}_url": url}):
        raise BatchNotTerminal(f"provider batch row {row.id}: lost the lease while copying its {which} file")
    return None


def _verdicts(store: ObjectStore, row: EvaluationBatch) -> Iterator[LineVerdict | BadLine]:
    for key in (row.output_key, row.error_key):
        if key is None:
            continue
        with open_object(store, key) as fh:
            for _number, obj in iter_result_lines(fh):
                yield obj if isinstance(obj, BadLine) else judge_line(obj, row.endpoint)


def _evaluate(
    repo: BatchRepository,
    store: ObjectStore,
    row: EvaluationBatch,
    config: BatchConfig,
    *,
    collected_now: bool,
    anomalies: list[dict[str, Any]] | None = None,
) -> tuple[CollectResult, list[RequestOutcome]]:
    """The batch's result (and each request's outcome) from its stored copies and rows."""
    refs = repo.refs_of(row.id)
    status = row.provider_status if row.provider_status in PROVIDER_TERMINAL else DEADLINE
    pid = row.provider_batch_id or f"(not created, row {row.id})"
    known = list(anomalies if anomalies is not None else (row.anomalies or []))
    usage = Usage()
    if row.state == ABANDONED:
        d: Decisions = decide_abandoned(
            refs,
            reason=row.outcome or "the batch was abandoned",
            round_=row.round,
            max_rounds=config.max_rounds,
            user_cancelled=row.cancel_requested_at is not None,
        )
        status = ABANDONED
    elif status == "failed":
        d = decide_rejected(refs, row.errors, provider_batch_id=pid, round_=row.round, max_rounds=config.max_rounds)
    else:
        rec = reconcile(refs, _verdicts(store, row), request_counts=row.request_counts, provider_usage=row.usage)
        usage = rec.usage
        d = decide_lines(
            refs,
            rec,
            provider_status=status,
            provider_batch_id=pid,
            round_=row.round,
            max_rounds=config.max_rounds,
            user_cancelled=row.cancel_requested_at is not None,
        )
    # anomalies found now are stored with the outcomes; a recomputation shows the stored ones
    all_anomalies = known + d.anomalies if collected_now else known
    counts = {
        "requests": len(refs),
        "succeeded": sum(1 for i in d.items if i.status == "succeeded"),
        "failed": sum(1 for i in d.items if i.status != "succeeded"),
        "retry": len(d.retry),
    }
    result = CollectResult(
        batch_id=row.id,
        provider_status=status,
        round=row.round,
        items=d.items,
        retry=d.retry,
        defer=d.defer,
        fatal=d.fatal,
        anomalies=all_anomalies,
        usage=usage,
        collected_now=collected_now,
        counts=counts,
    )
    return result, d.outcomes
