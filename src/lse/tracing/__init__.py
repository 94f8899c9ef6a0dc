"""Exports of stored evaluation results to Langfuse and LangSmith, through an outbox.

Never on a run's critical path: a run is complete when its rows are; exporting reads
them afterwards, with remote ids chosen once and stored, so a retried, killed or
repeated export addresses the same remote objects (docs/tracing.md).
"""

from lse.tracing.datasets import push_dataset
from lse.tracing.outcome import ExportOutcome
from lse.tracing.service import after_run_completed, export_pending, export_run
from lse.tracing.status import remote_dataset_ids, tracing_status
from lse.tracing.targets import Targets, resolve_targets
from lse.tracing.watcher import TracingWatcher

__all__ = [
    "ExportOutcome",
    "Targets",
    "TracingWatcher",
    "after_run_completed",
    "export_pending",
    "export_run",
    "push_dataset",
    "remote_dataset_ids",
    "resolve_targets",
    "tracing_status",
]
