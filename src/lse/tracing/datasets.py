"""`lse eval dataset push`: a golden dataset to LangSmith (or Langfuse) on demand.

The dataset must belong to the caller's project (another project's dataset is "not
found"). Pushing again creates only what is missing and updates only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lse.errors import ConfigError, NotFoundError
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDataset
from lse.tracing.langfuse_client import langfuse_client
from lse.tracing.langfuse_datasets import sync_dataset
from lse.tracing.langsmith_client import langsmith_client
from lse.tracing.langsmith_datasets import push_dataset as push_to_langsmith
from lse.tracing.pacing import Pacer
from lse.tracing.run_data import load_dataset
from lse.tracing.targets import LangfuseTarget, LangSmithTarget, resolve_targets


@dataclass(frozen=True)
class DatasetPush:
    target: str
    dataset_id: int
    remote_name: str
    remote_id: str
    items: int
    created: int
    updated: int
    unchanged: int
    location: str


def push_dataset(
    settings: Settings, dataset_id: int, *, organization_id: int, project_id: int, target: str = "langsmith"
) -> DatasetPush:
    engine = get_engine(settings)
    with unit_of_work(engine) as session:
        found = session.scalar(
            select(EvaluationDataset.id).where(
                EvaluationDataset.id == dataset_id,
                EvaluationDataset.organization_id == organization_id,
                EvaluationDataset.project_id == project_id,
            )
        )
        if found is None:
            raise NotFoundError(f"dataset {dataset_id} not found in this project", code="dataset_not_found")
        dataset = load_dataset(session, dataset_id)
    chosen = resolve_targets(settings, organization_id, project_id, only=target, explicit=True).get(target)
    pacer = Pacer(settings.tracing_requests_per_minute)
    if isinstance(chosen, LangSmithTarget):
        client = langsmith_client(chosen, timeout_s=settings.request_timeout_s)
        name, remote_id, _, counts = push_to_langsmith(engine, client, pacer, chosen, dataset)
        return DatasetPush(
            "langsmith",
            dataset_id,
            name,
            remote_id,
            len(dataset.items),
            counts["created"],
            counts["updated"],
            counts["unchanged"],
            f"{chosen.endpoint}/datasets/{remote_id}",
        )
    if isinstance(chosen, LangfuseTarget):
        lf = langfuse_client(chosen, timeout_s=settings.request_timeout_s)
        name, remote_id, _, sent = sync_dataset(engine, lf, pacer, chosen, dataset)
        return DatasetPush(
            "langfuse",
            dataset_id,
            name,
            remote_id,
            len(dataset.items),
            sent["sent"],
            0,
            sent["unchanged"],
            f"{chosen.host} — dataset {name!r}",
        )
    needs = (
        "LANGSMITH_API_KEY (and LANGSMITH_ENDPOINT)"
        if target == "langsmith"
        else "LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY"
    )
    raise ConfigError(f"{target} is not configured: set {needs}", code="tracing_not_configured")
