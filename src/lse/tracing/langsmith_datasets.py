"""A golden dataset in LangSmith: `lse eval dataset push DATASET --to langsmith`.

One LangSmith dataset per lse dataset (named `org/project/dataset`), one example per
item with a UUIDv7 id drawn once and stored, so a push creates what is missing, updates
what changed and leaves the rest. Items built from archived PASS verdicts carry their
lineage in the example's metadata: the archived run and trace they came from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

import langsmith
from langsmith import utils as ls_utils
from lse.store.engine import unit_of_work
from lse.store.models.evaluation import utcnow
from lse.store.models.tracing import TracingDataset, TracingDatasetItem
from lse.tracing.langsmith_client import translate
from lse.tracing.outbox import ensure_dataset_export
from lse.tracing.pacing import Pacer
from lse.tracing.run_data import DatasetItemView, DatasetView, content_hash, item_metadata
from lse.tracing.targets import LangSmithTarget

BATCH = 100


def example_payload(dataset: DatasetView, item: DatasetItemView) -> dict[str, Any]:
    metadata = item_metadata(dataset, item)
    return {"inputs": {"question": item.question}, "outputs": {"answer": item.answer}, "metadata": metadata}


def _ensure_remote_dataset(
    client: langsmith.Client, pacer: Pacer, row: TracingDataset, dataset: DatasetView
) -> tuple[str, bool]:
    """(remote dataset id, whether it was created just now); a stored id that vanished is
    looked up by name, then recreated."""
    if row.remote_id is not None:
        pacer.wait()
        try:
            client.read_dataset(dataset_id=row.remote_id)
            return row.remote_id, False
        except ls_utils.LangSmithNotFoundError:
            pass
        except Exception as exc:
            raise translate(exc, f"reading dataset {row.remote_name!r}") from exc
    pacer.wait()
    try:
        found = client.read_dataset(dataset_name=row.remote_name)
        return str(found.id), False
    except ls_utils.LangSmithNotFoundError:
        pass
    except Exception as exc:
        raise translate(exc, f"looking up dataset {row.remote_name!r}") from exc
    pacer.wait()
    try:
        created = client.create_dataset(
            row.remote_name,
            description=dataset.description or f"lse golden dataset {dataset.name!r}",
            metadata={
                "lse_dataset_id": dataset.id,
                "lse_organization": dataset.organization,
                "lse_project": dataset.project,
                "lse_dataset_name": dataset.name,
            },
        )
    except Exception as exc:
        raise translate(exc, f"creating dataset {row.remote_name!r}") from exc
    return str(created.id), True


def push_dataset(
    engine: Engine, client: langsmith.Client, pacer: Pacer, target: LangSmithTarget, dataset: DatasetView
) -> tuple[str, str, dict[int, str], dict[str, int]]:
    """Bring the LangSmith dataset up to date.

    Returns (name, remote id, item id → example id, {"created", "updated", "unchanged"}).
    """
    with unit_of_work(engine) as session:
        row = ensure_dataset_export(session, dataset, target)
        session.flush()
        session.expunge(row)
        items = {
            r.item_id: (r.id, r.remote_id, r.content_hash)
            for r in session.scalars(select(TracingDatasetItem).where(TracingDatasetItem.tracing_dataset_id == row.id))
        }
    remote_id, created = _ensure_remote_dataset(client, pacer, row, dataset)
    with unit_of_work(engine) as session:
        stored = session.get(TracingDataset, row.id)
        if stored is not None:
            stored.remote_id, stored.state, stored.last_error = remote_id, "confirmed", None
    existing: dict[str, Any] = {}
    if not created:
        pacer.wait()
        try:
            existing = {str(e.id): e for e in client.list_examples(dataset_id=remote_id)}
        except Exception as exc:
            raise translate(exc, f"listing the examples of {row.remote_name!r}") from exc
    creates, updates, done = [], [], []
    for item in dataset.items:
        row_id, example_id, sent_hash = items[item.item_id]
        payload = example_payload(dataset, item)
        digest = content_hash(payload)
        remote = existing.get(example_id)
        if remote is None:
            creates.append((row_id, digest, {"id": example_id, **_create_form(payload)}))
        elif sent_hash != digest or (remote.inputs, remote.outputs, remote.metadata) != (
            payload["inputs"],
            payload["outputs"],
            payload["metadata"],
        ):
            updates.append((row_id, digest, {"id": example_id, **payload}))
        else:
            done.append((row_id, digest))
    for start in range(0, len(creates), BATCH):
        chunk = creates[start : start + BATCH]
        pacer.wait()
        try:
            client.create_examples(dataset_id=remote_id, examples=[c[2] for c in chunk])
        except Exception as exc:
            raise translate(exc, f"creating examples in {row.remote_name!r}") from exc
        _confirm(engine, [(c[0], c[1]) for c in chunk])
    for start in range(0, len(updates), BATCH):
        chunk = updates[start : start + BATCH]
        pacer.wait()
        try:
            client.update_examples(dataset_id=remote_id, updates=[u[2] for u in chunk])
        except Exception as exc:
            raise translate(exc, f"updating examples in {row.remote_name!r}") from exc
        _confirm(engine, [(u[0], u[1]) for u in chunk])
    _confirm(engine, done)
    counts = {"created": len(creates), "updated": len(updates), "unchanged": len(done)}
    return row.remote_name, remote_id, {item_id: v[1] for item_id, v in items.items()}, counts


def _create_form(payload: dict[str, Any]) -> dict[str, Any]:
    return {"inputs": payload["inputs"], "reference_outputs": payload["outputs"], "metadata": payload["metadata"]}


def _confirm(engine: Engine, rows: list[tuple[int, str]]) -> None:
    if not rows:
        return
    with unit_of_work(engine) as session:
        for row_id, digest in rows:
            item = session.get(TracingDatasetItem, row_id)
            if item is not None:
                item.content_hash, item.state, item.pushed_at, item.last_error = digest, "confirmed", utcnow(), None
