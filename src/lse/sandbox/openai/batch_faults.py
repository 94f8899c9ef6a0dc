"""The Batch API's schedule and traps: switches a test sets on `sandbox.batches.faults`.

Two kinds of field:
- schedule and line traps are copied into a batch when it is created, so changing them
  affects later batches only (a batch keeps the behaviour it was born with);
- request traps (`*_next`, `retrieve_gone`, `create_response_delay_s`) are read on every request, and each
  `*_next` counter is consumed one per matching request.
Every trap is off by default; output order is shuffled by default (the API promises no order).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DAY_S = 86_400
THIRTY_DAYS_S = 30 * DAY_S


@dataclass
class BatchFaults:
    # --- schedule, in seconds of the sandbox clock --------------------------------------
    validate_s: float = 1.0  # validating -> in_progress (or failed)
    process_s: float = 2.0  # in_progress: lines run evenly over this time
    finalize_s: float = 1.0  # finalizing -> completed
    cancel_delay_s: float = 2.0  # cancelling -> cancelled (OpenAI: up to 600)
    completion_window_s: float = DAY_S  # expires_at = created_at + this
    # --- provider limits (lower them to test splitting) ---------------------------------
    max_requests: int = 50_000
    max_file_bytes: int = 200 * 1024 * 1024
    max_embedding_inputs: int = 50_000
    # Enqueued prompt tokens per model across unfinished batches; None = unlimited.
    enqueued_token_limit: int | None = None
    # --- line traps (copied into each new batch) ----------------------------------------
    shuffle_output: bool = True
    shuffle_seed: int = 0
    line_error_every: int = 0  # every k-th line fails with `line_error_status`
    line_error_status: int = 500
    all_fail: bool = False  # every line fails with 500: completed, output_file_id null
    incomplete_every: int = 0  # every k-th line runs with max_output_tokens=16 -> status incomplete
    expire_after_lines: int | None = None  # run N lines, then stall until expires_at -> expired
    stuck: bool = False  # never leaves in_progress, not even past expires_at
    drop_lines: int = 0  # N executed lines appear in neither file
    duplicate_lines: int = 0  # N output lines appear twice
    counts_wrong: bool = False  # request_counts claim every request completed
    validation_fail_lines: tuple[int, ...] = ()  # 1-based lines rejected at validation
    # --- request traps (read per request) ----------------------------------------------
    create_error_next: int = 0  # answer 500 without creating anything
    create_lost_response_next: int = 0  # create the batch, then answer 500
    create_response_delay_s: float = 0.0  # create the batch, then wait (real seconds) before answering
    retrieve_error_next: int = 0  # the next N retrieves answer `retrieve_error_status`
    retrieve_error_status: int = 500
    retrieve_gone: bool = False  # every retrieve answers 404, as for a deleted batch
    content_error_next: int = 0  # the next N file-content downloads answer 500
    file_expire_s: float = THIRTY_DAYS_S  # default lifetime of batch input and output files

    def snapshot(self) -> BatchFaults:
        return replace(self, validation_fail_lines=tuple(self.validation_fail_lines))
