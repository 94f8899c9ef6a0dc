"""A golden dataset in Langfuse: one dataset per lse dataset, one item per lse item.

Both calls upsert (a dataset by name, an item by id), so re-sending is safe; the outbox
keeps what was last sent (a content hash) so an unchanged item is not sent again, and a
changed one is updated in place under the same id. Item ids derive from the dataset's
stored export key; the dataset name carries the tenant.
"""

from __future__ import annotations

from typing import Any

from langfuse import Langfuse
from sqlalchemy import Engine, select

from lse.store.engine import unit_of_work
from lse.store.models.evaluation import EvaluationDataset, utcnow
from lse.store.models.tracing import TracingDataset, TracingDatasetItem
from lse.tracing.langfuse_client import translate
from lse.tracing.outbox import ensure_dataset_export
from lse.tracing.pacing import Pacer
from lse.tracing.run_data import DatasetItemView, DatasetView, content_hash, item_metadata
from lse.tracing.targets import LangfuseTarget


def item_payload(dataset: DatasetView, item: DatasetItemView) -> dict[str, Any]:
    metadata = item_metadata(dataset, item)
    return {"input": {"question": item.question}, "expected_output": {"answer": item.answer}, "metadata": metadata}


def sync_dataset(
    engine: Engine, client: Langfuse, pacer: Pacer, target: LangfuseTarget, dataset: DatasetView
) -> tuple[str, str, dict[int, str], dict[str, int]]:
    """Bring the remote dataset up to date.

    Returns (remote name, remote id, item id → remote item id, {"sent", "unchanged"}).
    """
    with unit_of_work(engine) as session:
        row = ensure_dataset_export(session, dataset, target)
        session.flush()
        row_id, name, remote_id, done = row.id, row.remote_name, row.remote_id, row.state == "confirmed"
        shown_id = session.scalar(
            select(EvaluationDataset.langfuse_dataset_id).where(EvaluationDataset.id == dataset.id)
        )
        items = {
            r.item_id: (r.id, r.remote_id, r.content_hash, r.state)
            for r in session.scalars(select(TracingDatasetItem).where(TracingDatasetItem.tracing_dataset_id == row_id))
        }
    if not done or remote_id is None:
        pacer.wait()
        try:
            created = client.create_dataset(
                name=name,
                description=dataset.description or f"lse golden dataset {dataset.name!r} ({len(dataset.items)} items)",
                metadata={
                    "lse_dataset_id": dataset.id,
                    "lse_organization": dataset.organization,
                    "lse_project": dataset.project,
                    "lse_dataset_name": dataset.name,
                },
            )
        except Exception as exc:
            raise translate(exc, f"creating dataset {name!r}") from exc
        remote_id = created.id
    if not done or shown_id != remote_id:  # written only when it changed: most syncs write nothing here
        with unit_of_work(engine, write=True) as session:
            stored = session.get(TracingDataset, row_id)
            if stored is not None:
                stored.remote_id, stored.state, stored.last_error = remote_id, "confirmed", None
            own = session.get(EvaluationDataset, dataset.id)
            if own is not None:
                own.langfuse_dataset_id = remote_id  # Kaapi's `langfuse_dataset_id` in dataset responses
    counts = {"sent": 0, "unchanged": 0}
    for item in dataset.items:
        item_row_id, item_remote_id, sent_hash, state = items[item.item_id]
        payload = item_payload(dataset, item)
        digest = content_hash(payload)
        if state == "confirmed" and sent_hash == digest:
            counts["unchanged"] += 1
            continue
        counts["sent"] += 1
        pacer.wait()
        try:
            client.create_dataset_item(dataset_name=name, id=item_remote_id, **payload)
        except Exception as exc:
            raise translate(exc, f"writing item {item.item_id} of dataset {name!r}") from exc
        with unit_of_work(engine) as session:
            stored_item = session.get(TracingDatasetItem, item_row_id)
            if stored_item is not None:
                stored_item.content_hash, stored_item.state = digest, "confirmed"
                stored_item.pushed_at, stored_item.last_error = utcnow(), None
    return name, remote_id, {item_id: v[1] for item_id, v in items.items()}, counts
