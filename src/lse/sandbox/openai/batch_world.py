"""The sandbox's Batch API engine: files, batches, and time passing over them.

Nothing runs in the background. Whenever a batch is looked at (a request, or a test calling
`advance`), it is brought up to the clock's now: validated at `created_at + validate_s`,
its lines run evenly over `process_s` (each line through the synchronous endpoint's own
code), finalized, then completed with its output and error files written in a seeded
shuffled order. Cancelling and expiry cut the run short; lines not run become
`batch_cancelled` / `batch_expired` error lines. One lock guards everything, since the
server's event loop and the test thread both touch it.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from typing import Any

from .batch_clock import SandboxClock
from .batch_execute import LineResult, execute_line
from .batch_faults import BatchFaults
from .batch_input import BatchErrorEntry, parse_input
from .batch_record import SandboxBatch
from .batch_stats import BatchStats
from .errors import SandboxAPIError, bad_request
from .faults import OpenAIFaults
from .files_store import FileRecord, FileStore

NOT_RUN_MESSAGES = {
    "batch_expired": "This request could not be executed before the completion window expired.",
    "batch_cancelled": "This request was not executed because the batch was cancelled.",
}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class BatchWorld:
    """`sandbox.batches`: state, `clock`, `faults`, `stats`, `files`, and `advance()` for tests."""

    def __init__(self, sync_faults: OpenAIFaults | None = None, clock: SandboxClock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or SandboxClock()
        self.faults = BatchFaults()
        self.stats = BatchStats()
        self.files = FileStore()
        self.sync_faults = sync_faults or OpenAIFaults()
        self._batches: dict[str, SandboxBatch] = {}

    # --- for tests ----------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Let `seconds` pass on the sandbox clock and bring every batch up to date."""
        with self.lock:
            self.clock.advance(seconds)
            self.step_all()

    def status_of(self, batch_id: str) -> str:
        with self.lock:
            return self.get(batch_id).status

    def batches_by_status(self) -> dict[str, int]:
        with self.lock:
            self.step_all()
            out: dict[str, int] = {}
            for b in self._batches.values():
                out[b.status] = out.get(b.status, 0) + 1
            return out

    def all_batches(self) -> list[dict[str, Any]]:
        with self.lock:
            self.step_all()
            return [b.to_wire() for b in self._batches.values()]

    # --- operations behind the routes (callers hold `lock`) --------------------------------
    def upload(self, filename: str, purpose: str, data: bytes, lifetime_s: float | None) -> FileRecord:
        if lifetime_s is None and purpose == "batch":
            lifetime_s = self.faults.file_expire_s
        record = self.files.add(filename, purpose, data, self.clock.now(), lifetime_s)
        self.stats.count("files_uploaded")
        return record

    def create(
        self,
        *,
        input_file_id: str,
        endpoint: str,
        completion_window: str,
        metadata: dict[str, str] | None,
        output_lifetime_s: float | None,
    ) -> SandboxBatch:
        now = self.clock.now()
        source = self.files.find(input_file_id, now)
        if source is None:
            raise bad_request(f"Invalid 'input_file_id': no file '{input_file_id}' exists.", param="input_file_id")
        if source.purpose != "batch":
            raise bad_request(
                f"The input file '{input_file_id}' must be uploaded with purpose 'batch', not '{source.purpose}'.",
                param="input_file_id",
            )
        plan = self.faults.snapshot()
        batch = SandboxBatch(
            id=f"batch_{uuid.uuid4().hex[:24]}",
            number=len(self._batches),
            endpoint=endpoint,
            input_file_id=input_file_id,
            completion_window=completion_window,
            metadata=metadata,
            output_lifetime_s=output_lifetime_s if output_lifetime_s is not None else plan.file_expire_s,
            plan=plan,
            created_at=now,
            expires_at=now + plan.completion_window_s,
        )
        self._batches[batch.id] = batch
        self.stats.count("batches_created")
        return batch

    def get(self, batch_id: str) -> SandboxBatch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise SandboxAPIError(404, f"No batch found with id '{batch_id}'.", param="batch_id")
        self._step(batch, self.clock.now())
        return batch

    def newest_first(self) -> list[SandboxBatch]:
        self.step_all()
        return sorted(self._batches.values(), key=lambda b: (b.created_at, b.number), reverse=True)

    def cancel(self, batch_id: str) -> SandboxBatch:
        batch = self.get(batch_id)
        if batch.status == "cancelling":
            return batch
        if batch.status not in ("validating", "in_progress"):
            raise bad_request(f"Cannot cancel a batch with status '{batch.status}'.", param="batch_id")
        now = self.clock.now()
        batch.status = "cancelling"
        batch.cancelling_at = now
        return batch

    def step_all(self) -> None:
        now = self.clock.now()
        for batch in self._batches.values():
            self._step(batch, now)

    # --- the state machine --------------------------------------------------------------
    def _step(self, b: SandboxBatch, now: float) -> None:
        plan = b.plan
        while True:
            if b.status == "validating":
                at = b.created_at + plan.validate_s
                if now < at:
                    return
                self._validate(b, at)
                continue
            if b.status == "in_progress":
                assert b.in_progress_at is not None
                horizon = now if plan.stuck else min(now, b.expires_at)
                self._run_due(b, horizon)
                if b.executed == len(b.lines) and not plan.stuck:
                    b.status = "finalizing"
                    b.finalizing_at = b.in_progress_at + plan.process_s
                    continue
                if not plan.stuck and now >= b.expires_at:
                    self._finish(b, "expired", b.expires_at, "batch_expired")
                return
            if b.status == "finalizing":
                assert b.finalizing_at is not None
                at = b.finalizing_at + plan.finalize_s
                if now < at:
                    return
                self._finish(b, "completed", at, "batch_expired")
                return
            if b.status == "cancelling":
                assert b.cancelling_at is not None
                at = b.cancelling_at + plan.cancel_delay_s
                if now < at:
                    return
                self._finish(b, "cancelled", at, "batch_cancelled")
            return

    def _validate(self, b: SandboxBatch, at: float) -> None:
        plan = b.plan
        source = self.files.find(b.input_file_id, at)
        if source is None:
            self._fail(b, at, [BatchErrorEntry("file_not_found", f"Cannot find file {b.input_file_id}.")])
            return
        parsed = parse_input(
            source.data,
            b.endpoint,
            max_requests=plan.max_requests,
            max_embedding_inputs=plan.max_embedding_inputs,
            reject_lines=plan.validation_fail_lines,
        )
        if parsed.errors:
            self._fail(b, at, parsed.errors)
            return
        b.model = parsed.model
        limit = plan.enqueued_token_limit
        if limit is not None:
            enqueued = sum(
                o.prompt_tokens
                for o in self._batches.values()
                if o is not b and o.model == parsed.model and o.status in ("in_progress", "finalizing", "cancelling")
            )
            if enqueued + parsed.prompt_tokens > limit:
                message = (
                    f"Enqueued token limit reached for {parsed.model} in organization org-sandbox. "
                    f"Limit: {limit:,} enqueued tokens. Please try submitting your batch again later."
                )
                self._fail(b, at, [BatchErrorEntry("token_limit_exceeded", message)])
                return
        b.lines = parsed.lines
        b.prompt_tokens = parsed.prompt_tokens
        b.results = [None] * len(parsed.lines)
        b.status = "in_progress"
        b.in_progress_at = at

    def _fail(self, b: SandboxBatch, at: float, errors: list[BatchErrorEntry]) -> None:
        b.errors = errors
        b.status = "failed"
        b.failed_at = at

    def _run_due(self, b: SandboxBatch, until: float) -> None:
        plan = b.plan
        assert b.in_progress_at is not None
        n = len(b.lines)
        if plan.process_s <= 0:
            due = n
        else:
            due = min(n, int(n * max(0.0, until - b.in_progress_at) / plan.process_s))
        if plan.expire_after_lines is not None:
            due = min(due, plan.expire_after_lines)
        marker = self.sync_faults.bad_request_marker
        while b.executed < due:
            i = b.executed
            line = b.lines[i]
            k = i + 1
            fail = None
            if plan.all_fail:
                fail = 500
            elif plan.line_error_every and k % plan.line_error_every == 0:
                fail = plan.line_error_status
            at = b.in_progress_at + (k * plan.process_s / n if n else 0)
            b.results[i] = execute_line(
                b.endpoint,
                line.body,
                marker=marker,
                created_at=at,
                fail_status=fail,
                force_incomplete=bool(plan.incomplete_every and k % plan.incomplete_every == 0),
            )
            self.stats.executed(line.custom_id)
            b.executed += 1

    def _finish(self, b: SandboxBatch, status: str, at: float, not_run_code: str) -> None:
        plan = b.plan
        out_lines: list[bytes] = []
        err_lines: list[bytes] = []
        usage = {"input_tokens": 0, "cached_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0}
        completed = failed = 0
        executed_order: list[tuple[int, LineResult]] = []
        for i, line in enumerate(b.lines):
            result = b.results[i]
            if result is None:
                failed += 1
                err = {"code": not_run_code, "message": NOT_RUN_MESSAGES[not_run_code]}
                err_lines.append(_dumps({"id": _req_id(), "custom_id": line.custom_id, "response": None, "error": err}))
                continue
            executed_order.append((i, result))
            usage["input_tokens"] += result.input_tokens
            usage["cached_tokens"] += result.cached_tokens
            usage["output_tokens"] += result.output_tokens
            usage["reasoning_tokens"] += result.reasoning_tokens
            if result.status_code == 200:
                completed += 1
            else:
                failed += 1
        dropped = {i for i, _ in executed_order[: plan.drop_lines]}
        duplicated = 0
        for i, result in executed_order:
            if i in dropped:
                continue
            wire = {
                "id": _req_id(),
                "custom_id": b.lines[i].custom_id,
                "response": {"status_code": result.status_code, "request_id": _req_id("req_"), "body": result.body},
                "error": None,
            }
            if result.status_code == 200:
                out_lines.append(_dumps(wire))
                if duplicated < plan.duplicate_lines:
                    out_lines.append(_dumps(wire))
                    duplicated += 1
            else:
                err_lines.append(_dumps(wire))
        if plan.shuffle_output:
            rng = random.Random(f"{plan.shuffle_seed}/{b.number}")
            rng.shuffle(out_lines)
            rng.shuffle(err_lines)
        name = b.id
        if out_lines:
            b.output_file_id = self._write(f"{name}_output.jsonl", out_lines, at, b.output_lifetime_s)
        if err_lines:
            b.error_file_id = self._write(f"{name}_error.jsonl", err_lines, at, b.output_lifetime_s)
        total = len(b.lines)
        b.request_counts = (
            {"total": total, "completed": total, "failed": 0}
            if plan.counts_wrong
            else {"total": total, "completed": completed, "failed": failed}
        )
        b.usage = {
            "input_tokens": usage["input_tokens"],
            "input_tokens_details": {"cached_tokens": usage["cached_tokens"]},
            "output_tokens": usage["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": usage["reasoning_tokens"]},
            "total_tokens": usage["input_tokens"] + usage["output_tokens"],
        }
        b.status = status
        setattr(b, f"{status}_at", at)

    def _write(self, filename: str, lines: list[bytes], at: float, lifetime_s: float) -> str:
        return self.files.add(filename, "batch_output", b"".join(lines), at, lifetime_s).id


def _req_id(prefix: str = "batch_req_") -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"
