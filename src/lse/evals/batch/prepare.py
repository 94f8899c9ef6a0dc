"""Preparing a round: request files into the object store, then their rows into the database.

This is the first "persist before the remote step": nothing is uploaded until the file is
in the object store and its batch row (state `prepared`, with a fresh client key) and one
request row per line are committed. Preparing again is safe: items already in a request
file of the round are skipped, new parts are numbered after the last, and a part another
process recorded first (unique run/stage/round/part) stops this one.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lse.evals.batch.bodies import BodyFn, responses_body
from lse.evals.batch.config import BatchLimits
from lse.evals.batch.objects_io import put_file
from lse.evals.batch.repository import BatchRepository, NewBatch
from lse.evals.batch.request_file import Oversized, RequestFile, write_request_files
from lse.evals.batch.states import ENDPOINT_RESPONSES, STAGE_RESPONSES
from lse.evals.pipeline.records import ItemOutcome
from lse.objects import ObjectStore
from lse.store.models.evaluation import utcnow


@dataclass(frozen=True)
class RoundItem:
    item_id: int
    question: str


@dataclass
class PreparedRound:
    batch_ids: list[int] = field(default_factory=list)
    # Items no batch can carry (a single request over a limit): final failures, fast-mode shaped.
    rejected: list[ItemOutcome] = field(default_factory=list)
    already_prepared: int = 0  # items of the round found in earlier parts


def request_object_key(run_id: int, stage: str, round_: int, part: int, client_key: str) -> str:
    return f"batch-eval/runs/{run_id}/{stage}/round-{round_}/part-{part}-{client_key}/requests.jsonl"


def _rejected(item: Oversized, attempt: int) -> ItemOutcome:
    return ItemOutcome.failed(item.item_id, f"not sent: {item.reason}", "request_too_large", attempts=attempt)


def prepare_round(
    repo: BatchRepository,
    store: ObjectStore,
    *,
    run_id: int,
    round_: int,
    model: str,
    params: dict[str, Any],
    items: Sequence[RoundItem],
    limits: BatchLimits,
    body_for: BodyFn = responses_body,
    stage: str = STAGE_RESPONSES,
    endpoint: str = ENDPOINT_RESPONSES,
    now: Callable[[], datetime] = utcnow,
) -> PreparedRound:
    """Write and record the request files of round `round_` for `items` (in their order)."""
    done, last_part = repo.items_in_round(run_id, stage, round_)
    todo = [(i.item_id, i.question) for i in items if i.item_id not in done]
    result = PreparedRound(already_prepared=len(items) - len(todo))
    part = last_part
    with tempfile.TemporaryDirectory(prefix="lse-batch-") as tmp:
        for produced in write_request_files(
            todo,
            run_id=run_id,
            attempt=round_,
            endpoint=endpoint,
            params=params,
            body_for=body_for,
            limits=limits,
            directory=Path(tmp),
        ):
            if isinstance(produced, Oversized):
                result.rejected.append(_rejected(produced, round_))
                continue
            part += 1
            batch_id = _record(repo, store, produced, run_id, stage, round_, part, model, endpoint, now())
            produced.path.unlink()
            if batch_id is None:  # another process recorded this part first: let it prepare the round
                break
            result.batch_ids.append(batch_id)
    return result


def _record(
    repo: BatchRepository,
    store: ObjectStore,
    part_file: RequestFile,
    run_id: int,
    stage: str,
    round_: int,
    part: int,
    model: str,
    endpoint: str,
    now: datetime,
) -> int | None:
    key = uuid.uuid4().hex
    object_key = request_object_key(run_id, stage, round_, part, key)
    url = put_file(store, object_key, part_file.path)
    new = NewBatch(
        run_id=run_id,
        stage=stage,
        round=round_,
        part=part,
        client_key=key,
        endpoint=endpoint,
        model=model,
        request_key=object_key,
        request_url=url,
        request_sha256=part_file.sha256,
        request_bytes=part_file.n_bytes,
        n_requests=part_file.n_requests,
        est_input_tokens=part_file.est_tokens,
    )
    batch_id = repo.insert_batch(new, part_file.refs, now=now)
    if batch_id is None:
        store.delete(object_key)
    return batch_id
