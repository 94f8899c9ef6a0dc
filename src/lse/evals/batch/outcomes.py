"""From reconciled lines to what the run does with each item: keep it, or send it again.

Per item (pure):
- a success, or a final failure (a 4xx, an incomplete answer), is an item result in fast
  mode's shape (`ItemOutcome`), `attempts` being the round it was sent in;
- a retryable failure, a request never executed (expired, or cancelled by the provider or
  at our deadline) or missing goes to the next round while rounds remain, else it is a
  failed item saying why; in a batch the user cancelled, whatever did not finish is a failed
  item at once (a cancelled evaluation has no next round).
Per batch: a first-round batch `completed` with no success at all is fatal for the run (never
a success-looking run); a `failed` batch maps each `errors.data[].line` back to its item, fails those items
with the provider's message and sends the others again; `token_limit_exceeded` sends every
item again later in smaller batches (`defer`); a rejection naming no line is fatal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lse.evals.batch.lines import LineVerdict
from lse.evals.batch.reconcile import Reconciliation
from lse.evals.batch.repository import RequestOutcome
from lse.evals.batch.request_file import RequestRef
from lse.evals.batch.states import FAILED, NOT_EXECUTED, RETRY, SUCCEEDED
from lse.evals.pipeline.records import ItemOutcome
from lse.evals.pipeline.status import ItemStatus
from lse.providers.usage import Usage

TOKEN_LIMIT = "token_limit_exceeded"


@dataclass(frozen=True)
class RetryItem:
    item_id: int
    custom_id: str
    code: str | None
    reason: str


@dataclass
class Decisions:
    outcomes: list[RequestOutcome] = field(default_factory=list)
    items: list[ItemOutcome] = field(default_factory=list)  # final results
    retry: list[RetryItem] = field(default_factory=list)  # for the next round
    defer: bool = False  # the retries must wait and go in smaller batches (enqueued-token limit)
    fatal: str | None = None  # the run cannot succeed: fail it with this reason
    anomalies: list[dict[str, Any]] = field(default_factory=list)


def _record(ref: RequestRef, v: LineVerdict, attempt: int, *, error: str | None = None) -> ItemOutcome:
    u = v.usage or Usage()
    ok = v.kind == SUCCEEDED and error is None
    return ItemOutcome(
        item_id=ref.item_id,
        status=ItemStatus.SUCCEEDED if ok else ItemStatus.FAILED,
        output=v.output,
        error=None if ok else (error or v.error),
        error_code=None if ok else (v.error_code or v.kind)[:64],
        usage=Usage(u.input_tokens, u.cached_tokens, u.output_tokens, u.reasoning_tokens),
        latency_ms=None,
        attempts=attempt,
        response_id=v.response_id,
    )


def _outcome(ref: RequestRef, v: LineVerdict) -> RequestOutcome:
    return RequestOutcome(
        line_no=ref.line_no,
        outcome=v.kind,
        status_code=v.status_code,
        error_code=v.error_code,
        error=v.error,
        usage=v.usage.to_dict() if v.usage else None,
        response_id=v.response_id,
    )


def _again_or_fail(d: Decisions, ref: RequestRef, v: LineVerdict, round_: int, max_rounds: int) -> None:
    if round_ < max_rounds:
        d.retry.append(RetryItem(ref.item_id, ref.custom_id, v.error_code, v.error or v.kind))
    else:
        d.items.append(_record(ref, v, round_, error=f"{v.error or v.kind} (gave up after {round_} rounds)"))


def decide_lines(
    refs: Sequence[RequestRef],
    rec: Reconciliation,
    *,
    provider_status: str,
    provider_batch_id: str,
    round_: int,
    max_rounds: int,
    user_cancelled: bool,
) -> Decisions:
    d = Decisions(anomalies=list(rec.anomalies))
    for ref in refs:
        v = rec.verdicts[ref.custom_id]
        d.outcomes.append(_outcome(ref, v))
        if v.kind in (SUCCEEDED, FAILED):
            d.items.append(_record(ref, v, round_))
        elif user_cancelled:  # no next round for a cancelled evaluation: whatever did not finish ends here
            why = v.error if v.kind == RETRY else "not executed: the evaluation was cancelled"
            d.items.append(_record(ref, replace(v, error_code=v.error_code or "batch_cancelled"), round_, error=why))
        else:
            _again_or_fail(d, ref, v, round_, max_rounds)
    # A first-round batch that completed without one success means something systematic (model,
    # params, account): resending it would only pay again. Leftovers of later rounds are judged
    # item by item instead, under the run's failure threshold.
    first_round = round_ == 1
    if first_round and provider_status == "completed" and refs and not any(r.status == "succeeded" for r in d.items):
        errors = Counter(v.error or v.kind for v in rec.verdicts.values())
        top, count = errors.most_common(1)[0]
        d.fatal = (
            f"provider batch {provider_batch_id} completed with 0 of {len(refs)} requests succeeded; "
            f"most common error: {top} ({count}/{len(refs)})"
        )
    return d


def decide_rejected(
    refs: Sequence[RequestRef],
    errors: Sequence[dict[str, Any]] | None,
    *,
    provider_batch_id: str,
    round_: int,
    max_rounds: int,
) -> Decisions:
    """A batch the provider `failed` at validation: nothing ran, nothing was billed."""
    d = Decisions()
    by_line = {r.line_no: r for r in refs}
    line_errors: dict[int, dict[str, Any]] = {}
    general: list[dict[str, Any]] = []
    for e in errors or []:
        line = e.get("line")
        if isinstance(line, int) and line in by_line:
            line_errors.setdefault(line, e)
        elif isinstance(line, int):
            d.anomalies.append(
                {"kind": "error_line_out_of_range", "message": f"errors.data names line {line}: {e}", "count": 1}
            )
            general.append(e)
        else:
            general.append(e)

    def text(e: dict[str, Any]) -> str:
        param = f" (param {e['param']})" if e.get("param") else ""
        return f"{e.get('code') or 'rejected'}: {e.get('message') or 'no message'}{param}"

    token_limit = any(e.get("code") == TOKEN_LIMIT for e in general)
    if token_limit:
        d.defer = True
    elif general or not line_errors:
        reason = "; ".join(text(e) for e in general[:3]) or "the provider failed the batch without saying why"
        d.fatal = f"the provider rejected batch {provider_batch_id}: {reason}"
    for ref in refs:
        named = line_errors.get(ref.line_no)
        if named is not None:
            v = LineVerdict(
                ref.custom_id, FAILED, error=f"rejected at validation: {text(named)}", error_code=named.get("code")
            )
            d.outcomes.append(_outcome(ref, v))
            d.items.append(_record(ref, v, round_))
            continue
        if token_limit:
            v = LineVerdict(ref.custom_id, NOT_EXECUTED, error=text(general[0]), error_code=TOKEN_LIMIT)
        else:
            why = f"not executed: the provider rejected batch {provider_batch_id} ({d.fatal or 'other lines'})"
            v = LineVerdict(ref.custom_id, NOT_EXECUTED, error=why, error_code="batch_failed")
        d.outcomes.append(_outcome(ref, v))
        if d.fatal is not None:
            d.items.append(_record(ref, v, round_))
        else:
            _again_or_fail(d, ref, v, round_, max_rounds)
    return d


def decide_abandoned(
    refs: Sequence[RequestRef], *, reason: str, round_: int, max_rounds: int, user_cancelled: bool
) -> Decisions:
    """A batch given up before the provider ran it: nothing billed; its items go again, or fail."""
    d = Decisions()
    for ref in refs:
        code = "batch_cancelled" if user_cancelled else "batch_abandoned"
        v = LineVerdict(ref.custom_id, NOT_EXECUTED, error=f"not executed: {reason}", error_code=code)
        d.outcomes.append(_outcome(ref, v))
        if user_cancelled:
            d.items.append(_record(ref, v, round_))
        else:
            _again_or_fail(d, ref, v, round_, max_rounds)
    return d
