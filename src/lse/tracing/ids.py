"""The remote ids and names lse chooses for what it exports.

Derived ids are a pure function of something stored once (a run's trace seed, a
dataset's export key), so every retry names the same remote object; drawn ids (LangSmith
UUIDv7s) are drawn once and stored. Names carry the tenant (organization/project), so
two projects with a dataset called "golden" never share a remote dataset.
"""

from __future__ import annotations

import hashlib
import uuid

from langsmith.uuid import uuid7

from lse.evals.trace_ids import item_trace_id

ITEM_SCORE = "cosine_similarity"
TRACE_NAME = "evaluation-item"

__all__ = [
    "ITEM_SCORE",
    "TRACE_NAME",
    "dataset_item_id",
    "experiment_id",
    "item_score_id",
    "item_trace_id",
    "new_uuid7",
    "remote_dataset_name",
    "remote_experiment_name",
    "summary_score_id",
]


def remote_dataset_name(organization: str, project: str, dataset: str) -> str:
    """`org/project/dataset`: unique per tenant (Langfuse shows the slashes as folders)."""
    return f"{organization}/{project}/{dataset}"


def remote_experiment_name(organization: str, project: str, run_name: str, trace_seed: str) -> str:
    """The run's experiment name: the tenant, the run name, and a tag of its seed, since a
    run name is unique only within one lse database."""
    return f"{organization}/{project}/{run_name} [lse-{trace_seed[:8]}]"


def dataset_item_id(export_key: str, item_id: int) -> str:
    """A Langfuse dataset item id: derived from the dataset's stored export key."""
    return str(uuid.uuid5(uuid.UUID(export_key), f"item/{item_id}"))


def experiment_id(trace_seed: str) -> str:
    """The Langfuse experiment (dataset run) id of a run: 16 hex digits, like Langfuse's own."""
    return hashlib.sha256(f"lse-experiment/{trace_seed}".encode()).hexdigest()[:16]


def item_score_id(trace_id: str) -> str:
    return f"lse-{trace_id}-{ITEM_SCORE}"


def summary_score_id(experiment: str) -> str:
    return f"lse-{experiment}-{ITEM_SCORE}"


def new_uuid7() -> str:
    """A fresh UUIDv7 (LangSmith's announced id format), drawn once and then stored."""
    return str(uuid7())
