"""Everything one export pass needs besides the run: settings, database, target, pace,
clock and the lease it holds (renewed as it goes, so a long export keeps its claim)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from lse.settings import Settings
from lse.tracing import outbox
from lse.tracing.pacing import Pacer
from lse.tracing.targets import Target


@dataclass
class ExportContext:
    settings: Settings
    engine: Engine
    target: Target
    pacer: Pacer
    owner: str
    now: Callable[[], datetime]

    def renew(self, export_id: int) -> None:
        """Extend the lease; losing it (another exporter took over) stops this pass."""
        from lse.errors import ConflictError

        if not outbox.claim(self.engine, export_id, self.owner, self.settings.tracing_lease_s, self.now()):
            raise ConflictError(f"export {export_id} was taken over by another exporter", code="export_busy")
