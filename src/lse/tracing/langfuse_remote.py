"""What a Langfuse project already holds of one run: its experiment items and scores.

Traces cannot be updated or de-duplicated in Langfuse: a trace sent twice is stored
twice. So before sending anything an export lists the run's experiment (one page per
hundred items): a trace found there is never sent again, and the number of copies of
each is recorded, so a duplicate made by anyone is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from langfuse import Langfuse

from lse.tracing.langfuse_client import translate
from lse.tracing.pacing import Pacer

PAGE = 100


@dataclass
class RemoteRun:
    copies: dict[str, int] = field(default_factory=dict)  # trace id → root observations seen
    score_ids: set[str] = field(default_factory=set)  # ids of scores on those traces
    summary_present: bool = False


def list_remote(
    client: Langfuse, pacer: Pacer, experiment_id: str, since: datetime, summary_score_id: str | None
) -> RemoteRun:
    found = RemoteRun()
    cursor: str | None = None
    while True:
        pacer.wait()
        try:
            page = client.api.experiments.list_items(
                from_start_time=since, experiment_id=experiment_id, fields="core,scores", limit=PAGE, cursor=cursor
            )
        except Exception as exc:
            raise translate(exc, f"listing experiment {experiment_id}") from exc
        for item in page.data:
            found.copies[item.trace_id] = found.copies.get(item.trace_id, 0) + 1
            found.score_ids.update(s.id for s in item.scores or [])
        cursor = page.meta.cursor
        if not cursor or not page.data:
            break
    if summary_score_id is not None:
        pacer.wait()
        try:
            scores = client.api.scores.get_many(experiment_id=experiment_id, id=summary_score_id, limit=1)
        except Exception as exc:
            raise translate(exc, f"reading the summary score of experiment {experiment_id}") from exc
        found.summary_present = bool(scores.data)
    return found
