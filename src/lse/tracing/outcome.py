"""What one export pass did, for the CLI, the logs and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lse.store.models.tracing import TracingExportItem


@dataclass
class ExportOutcome:
    target: str
    destination: str
    run_id: int | None = None
    dataset_id: int | None = None
    state: str = "pending"  # the export's state after the pass
    items: int = 0
    exported: int = 0  # confirmed at the target
    pending: int = 0
    failed: int = 0
    sent: int = 0  # traces/runs sent during this pass
    duplicates: int = 0  # items the target holds more than once
    skipped: str | None = None  # why nothing was done (busy, run not completed …)
    error: str | None = None
    location: str | None = None  # where to look (URL or name)
    notes: list[str] = field(default_factory=list)


def tally_items(session: Session, export_id: int, outcome: ExportOutcome) -> None:
    """Fill `outcome`'s item counts from the export's item rows (confirmed, failed, the rest pending)."""
    states = list(session.scalars(select(TracingExportItem.state).where(TracingExportItem.export_id == export_id)))
    outcome.items = len(states)
    outcome.exported = states.count("confirmed")
    outcome.failed = states.count("failed")
    outcome.pending = len(states) - outcome.exported - outcome.failed
