"""One sandbox batch: what was asked, how far it got, and its wire form (`openai.types.Batch`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .batch_execute import LineResult
from .batch_faults import BatchFaults
from .batch_input import BatchErrorEntry, InputLine


def _secs(value: float | None) -> int | None:
    return None if value is None else int(value)


TERMINAL = frozenset({"failed", "completed", "expired", "cancelled"})


@dataclass
class SandboxBatch:
    id: str
    number: int  # creation order, seeds the output shuffle
    endpoint: str
    input_file_id: str
    completion_window: str
    metadata: dict[str, str] | None
    output_lifetime_s: float
    plan: BatchFaults  # the schedule and line traps this batch was born with
    created_at: float  # times are kept exact; the wire shows whole seconds
    expires_at: float
    status: str = "validating"
    model: str | None = None
    lines: list[InputLine] = field(default_factory=list)
    results: list[LineResult | None] = field(default_factory=list)
    executed: int = 0
    prompt_tokens: int = 0
    errors: list[BatchErrorEntry] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    request_counts: dict[str, int] | None = None
    usage: dict[str, Any] | None = None
    in_progress_at: float | None = None
    finalizing_at: float | None = None
    completed_at: float | None = None
    failed_at: float | None = None
    expired_at: float | None = None
    cancelling_at: float | None = None
    cancelled_at: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def live_counts(self) -> dict[str, int]:
        done = [r for r in self.results[: self.executed] if r is not None]
        ok = sum(1 for r in done if r.status_code == 200)
        return {"total": len(self.lines), "completed": ok, "failed": len(done) - ok}

    def to_wire(self) -> dict[str, Any]:
        counts = self.request_counts
        if counts is None and self.status != "failed":
            counts = self.live_counts() if self.lines else {"total": 0, "completed": 0, "failed": 0}
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": [e.to_wire() for e in self.errors]} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created_at),
            "in_progress_at": _secs(self.in_progress_at),
            "expires_at": int(self.expires_at),
            "finalizing_at": _secs(self.finalizing_at),
            "completed_at": _secs(self.completed_at),
            "failed_at": _secs(self.failed_at),
            "expired_at": _secs(self.expired_at),
            "cancelling_at": _secs(self.cancelling_at),
            "cancelled_at": _secs(self.cancelled_at),
            "request_counts": counts,
            "usage": self.usage,
            "metadata": self.metadata,
        }
