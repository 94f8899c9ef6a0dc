"""Stage 1: one Responses call per dataset item, bounded concurrency, results saved as they land.

Items that already have a stored result (from a run that died half-way) are not called
again. Each finished item is written to `evaluation_item_results` by the orchestrating
thread the moment its call ends, so a kill loses at most the calls in flight.
A response that is not a whole answer (failed, incomplete at a token cap or content
filter, an output the SDK cannot read) is a failed item with its reason; an incomplete
one keeps its partial text so it can be read, but it is never scored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from lse.evals.fast.caller import Caller, RunStopped
from lse.evals.fast.repository import ItemRecord, PlanItem
from lse.providers.errors import ProviderCallError
from lse.providers.responses import ResponseCall
from lse.providers.usage import Usage

CallFn = Callable[[dict[str, Any], str], ResponseCall]


@dataclass
class StageOneResult:
    records: dict[int, ItemRecord]
    stopped: bool


def _record(item: PlanItem, outcome, started: float) -> ItemRecord:
    usage = Usage().add(outcome.failed_usage)
    latency = round((time.monotonic() - started) * 1000.0, 1)
    if outcome.error is None:
        call: ResponseCall = outcome.value
        usage.add(call.usage)
        # an incomplete answer (token cap, content filter) keeps its partial text for reading,
        # but is a failed item: scoring it would pass a cut-off answer off as a whole one
        return ItemRecord(
            item_id=item.item_id,
            status="failed" if call.error_code else "succeeded",
            output=call.output_text,
            error=call.error,
            error_code=call.error_code,
            input_tokens=usage.input_tokens,
            cached_tokens=usage.cached_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            latency_ms=latency,
            attempts=outcome.attempts,
            response_id=call.response_id,
        )
    exc = outcome.error
    code = getattr(exc, "provider_code", None)
    if not code and isinstance(exc, ProviderCallError) and exc.status:
        code = f"http_{exc.status}"
    code = code or getattr(exc, "code", None) or type(exc).__name__
    message = str(exc)
    if outcome.attempts > 1 and outcome.decision is not None and outcome.decision.retryable:
        message = f"{message} (gave up after {outcome.attempts} attempts)"
    return ItemRecord(
        item_id=item.item_id,
        status="failed",
        output=None,
        error=message,
        error_code=str(code)[:64],
        input_tokens=usage.input_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        latency_ms=latency,
        attempts=outcome.attempts,
        response_id=None,
    )


def run_responses(
    items: list[PlanItem],
    *,
    params: dict[str, Any],
    call: CallFn,
    caller: Caller,
    concurrency: int,
    save: Callable[[list[ItemRecord]], None],
    on_item: Callable[[ItemRecord], None] = lambda r: None,
) -> StageOneResult:
    """Call every item in `items`; `save` persists each batch of finished records at once."""
    records: dict[int, ItemRecord] = {}
    stopped_items: list[PlanItem] = []

    def work(item: PlanItem) -> ItemRecord | None:
        started = time.monotonic()
        outcome = caller.call(lambda: call(params, item.question), headers_of=lambda r: r.headers)
        if isinstance(outcome.error, RunStopped) and outcome.attempts == 0:
            return None  # never called: the run was stopped first
        return _record(item, outcome, started)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="lse-responses") as pool:
        futures = {pool.submit(work, item): item for item in items}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            batch: list[ItemRecord] = []
            for fut in done:
                item = futures[fut]
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001 - a bug must still end the item
                    rec = ItemRecord(
                        item.item_id,
                        "failed",
                        None,
                        f"internal error: {type(exc).__name__}: {exc}",
                        "internal_error",
                        0,
                        0,
                        0,
                        0,
                        None,
                        0,
                        None,
                    )
                if rec is None:
                    stopped_items.append(item)
                    continue
                records[item.item_id] = rec
                batch.append(rec)
            if batch:
                save(batch)
                for rec in batch:
                    on_item(rec)
    return StageOneResult(records=records, stopped=caller.stop.is_set())
