"""The fast mode's own stages: call (one Responses call per item) and collect (the unit).

call — inputs: the items without a stored outcome. Bounded concurrency; each finished
item is written to `evaluation_item_results` by the orchestrating thread the moment its
call ends (its persistence), so a kill loses at most the calls in flight. A response that
is not a whole answer (failed, incomplete at a token cap or content filter, an output the
SDK cannot read) is a failed item with its reason; an incomplete one keeps its partial
text so it can be read, but it is never scored.

collect — inputs: every item's outcome. Writes the responses unit, then the stage's job
row (with usage and cost); a run that finds the row skips both stages and reads the
stored outcomes instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from lse.evals.pipeline.caller import Caller, CallOutcome, RunStopped
from lse.evals.pipeline.context import RunContext
from lse.evals.pipeline.cost import stage_cost
from lse.evals.pipeline.records import ItemOutcome, PlanItem, total_usage
from lse.evals.pipeline.stages import record_responses
from lse.evals.pipeline.status import ItemStatus
from lse.providers.errors import ProviderCallError
from lse.providers.params import extra_params
from lse.providers.responses import ResponseCall, create_response
from lse.providers.usage import Usage

CallFn = Callable[[dict[str, Any], str], ResponseCall]
SAVE_EVERY_S = 1.0  # finished items are written at least this often (each wait returns a batch)


@dataclass
class ResponsesResult:
    outcomes: dict[int, ItemOutcome]  # every item that has one
    cost: dict[str, Any]
    stopped: bool = False


def _outcome(item: PlanItem, call: CallOutcome[ResponseCall], started: float) -> ItemOutcome:
    usage = Usage().add(call.failed_usage)
    latency = round((time.monotonic() - started) * 1000.0, 1)
    if call.error is None and call.value is not None:
        answer = call.value
        usage.add(answer.usage)
        # an incomplete answer (token cap, content filter) keeps its partial text for reading,
        # but is a failed item: scoring it would pass a cut-off answer off as a whole one
        return ItemOutcome(
            item_id=item.item_id,
            status=ItemStatus.FAILED if answer.error_code else ItemStatus.SUCCEEDED,
            output=answer.output_text,
            error=answer.error,
            error_code=answer.error_code,
            usage=usage,
            latency_ms=latency,
            attempts=call.attempts,
            response_id=answer.response_id,
        )
    exc = call.error
    code = getattr(exc, "provider_code", None)
    if not code and isinstance(exc, ProviderCallError) and exc.status:
        code = f"http_{exc.status}"
    code = code or getattr(exc, "code", None) or type(exc).__name__
    message = str(exc)
    if call.attempts > 1 and call.decision is not None and call.decision.retryable:
        message = f"{message} (gave up after {call.attempts} attempts)"
    return ItemOutcome.failed(item.item_id, message, str(code), usage=usage, latency_ms=latency, attempts=call.attempts)


def call_responses(
    items: list[PlanItem],
    *,
    params: dict[str, Any],
    call: CallFn,
    caller: Caller,
    concurrency: int,
    save: Callable[[list[ItemOutcome]], None],
    on_item: Callable[[ItemOutcome], None] = lambda o: None,
) -> dict[int, ItemOutcome]:
    """Call every item in `items`; `save` persists each batch of finished outcomes at once.
    An item never called because the run was stopped first has no outcome."""
    outcomes: dict[int, ItemOutcome] = {}

    def work(item: PlanItem) -> ItemOutcome | None:
        started = time.monotonic()
        result = caller.call(
            lambda: call(params, item.question),
            headers_of=lambda r: r.headers,
            tokens_of=lambda r: (r.usage.input_tokens + r.usage.output_tokens) if r.usage else None,
        )
        if isinstance(result.error, RunStopped) and result.attempts == 0:
            return None  # never called: the run was stopped first
        return _outcome(item, result, started)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="lse-responses") as pool:
        futures = {pool.submit(work, item): item for item in items}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=SAVE_EVERY_S, return_when=FIRST_COMPLETED)
            batch: list[ItemOutcome] = []
            for fut in done:
                item = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001 -- a bug must still end the item, with its reason
                    outcome = ItemOutcome.failed(
                        item.item_id, f"internal error: {type(exc).__name__}: {exc}", "internal_error"
                    )
                if outcome is not None:
                    outcomes[item.item_id] = outcome
                    batch.append(outcome)
            if batch:
                save(batch)
                for outcome in batch:
                    on_item(outcome)
    return outcomes


def responses_stage(ctx: RunContext) -> ResponsesResult:
    """call + collect, or the stored outcomes when the stage is already recorded done."""
    plan, repo = ctx.plan, ctx.repo
    outcomes = repo.item_records(ctx.run_id)
    done = repo.job(ctx.run_id, ctx.names.responses_job)
    if done is not None:
        ctx.skipped.append("responses")
        return ResponsesResult(outcomes, done.cost or {})
    todo = [i for i in plan.items if i.item_id not in outcomes]
    ctx.progress.start(len(plan.items), "responses")
    if outcomes:
        ctx.progress.update(len(outcomes))
    caller = ctx.caller("responses")
    timeout = ctx.settings.eval_fast_call_timeout_s
    allowed = extra_params(ctx.settings.eval_extra_response_params)  # the deployment's additions
    outcomes.update(
        call_responses(
            todo,
            params=plan.params,
            call=lambda p, q: create_response(ctx.client, params=p, input=q, timeout=timeout, extra_allowed=allowed),
            caller=caller,
            concurrency=ctx.settings.eval_fast_api_concurrency,
            save=lambda batch: repo.save_items(ctx.run_id, batch),
            on_item=lambda o: ctx.progress.update(1),
        )
    )
    ctx.progress.complete()
    ctx.calls["responses"] = {"attempts": caller.attempts_made, "items_called": len(todo), **caller.adapter.snapshot()}
    usage = total_usage([o for i in plan.items if (o := outcomes.get(i.item_id)) is not None])
    cost = stage_cost(plan.model, usage)
    if ctx.stop.is_set():
        return ResponsesResult(outcomes, cost, stopped=True)
    record_responses(ctx, outcomes, cost, usage)
    return ResponsesResult(outcomes, cost)
