"""The embed stage: every output and ground-truth answer embedded in batched requests.

Inputs: the plan's items and one `ItemOutcome` per item, however the answers were
obtained. Texts are de-duplicated by content hash, looked up in the caches first, and
the rest sent in requests of at most 2,048 inputs and a token budget (`plan_batches`) —
not one request per pair. Batches run concurrently through the run's rate adapter; finished
batches are written to their caches at least every SAVE_EVERY_S and at the end (the stage's
persistence: a crash repeats only the batches of the last seconds; each save rewrites a
whole cache, so a large run does not rewrite it after every batch). A batch the provider rejects as a whole with a 400 (one
unusable input) is split in halves until the bad input is alone; only its items end
`not_scored`, with the reason. Any other permanent refusal (404 model_not_found, 403) is
about the model or the key, not an input: splitting would only multiply failing calls,
so the batches not yet sent are not sent and every item left unembedded ends
`not_scored` with that reason. Output: `Embedded`, which the score stage reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from lse.evals.pipeline.caller import Caller, CallOutcome
from lse.evals.pipeline.embedding_cache import EmbeddingCache, text_key
from lse.evals.pipeline.records import ItemOutcome, PlanItem
from lse.providers.embeddings import EmbeddingCall, plan_batches
from lse.providers.usage import Usage
from lse.retry import RetryKind

EmbedFn = Callable[[list[str]], EmbeddingCall]
SAVE_EVERY_S = 2.0  # finished batches reach their caches at least this often, and at the end


@dataclass
class Embedded:
    """What the embed stage leaves for scoring: the pairs to score, and why others cannot be."""

    pairs: list[tuple[PlanItem, str]]  # (item, its output), both sides embedded or failed
    unscorable: dict[int, str]  # item_id -> reason it has nothing to score
    failures: dict[str, str]  # text_key -> why its embedding failed
    usage: Usage
    requests: int
    batches: int
    inputs_embedded: int
    cache_hits: int
    stopped: bool = False
    errors: list[str] = field(default_factory=list)


def scorable_pairs(
    items: list[PlanItem], outcomes: Mapping[int, ItemOutcome]
) -> tuple[list[tuple[PlanItem, str]], dict[int, str]]:
    """The (item, output) pairs that can be scored, and the reason for every other item."""
    pairs: list[tuple[PlanItem, str]] = []
    unscorable: dict[int, str] = {}
    for item in items:
        outcome = outcomes.get(item.item_id)
        if outcome is None or not outcome.succeeded:
            unscorable[item.item_id] = "no output: the response failed"
        elif not (outcome.output or "").strip():
            unscorable[item.item_id] = "empty output"
        elif not (item.answer or "").strip():
            unscorable[item.item_id] = "empty ground truth"
        else:
            pairs.append((item, outcome.output or ""))
    return pairs, unscorable


def embed(
    items: list[PlanItem],
    outcomes: Mapping[int, ItemOutcome],
    *,
    embed_fn: EmbedFn,
    caller: Caller,
    gt_cache: EmbeddingCache,
    out_cache: EmbeddingCache,
    concurrency: int,
    on_batch: Callable[[], None] = lambda: None,
) -> Embedded:
    pairs, unscorable = scorable_pairs(items, outcomes)

    # what must be embedded: unique texts not in either cache, with the roles they play
    roles: dict[str, set[str]] = {}
    texts: dict[str, str] = {}
    hits = 0
    for item, output in pairs:
        for text, role in ((item.answer, "gt"), (output, "out")):
            own, other = (gt_cache, out_cache) if role == "gt" else (out_cache, gt_cache)
            if own.get(text) is not None:
                hits += 1
                continue
            found = other.get(text)
            if found is not None:
                own.put(text, found)
                hits += 1
                continue
            k = text_key(text)
            texts[k] = text
            roles.setdefault(k, set()).add(role)
    keys = list(texts)
    batches = plan_batches([texts[k] for k in keys])
    usage = Usage()
    failures: dict[str, str] = {}
    requests = 0
    halted: list[str] = []  # the reason of a permanent non-400 refusal: no batch is sent after it

    def work(batch_keys: list[str]) -> tuple[list[str], CallOutcome[EmbeddingCall] | None]:
        if halted:
            return batch_keys, None
        outcome = caller.call(
            lambda: embed_fn([texts[k] for k in batch_keys]),
            headers_of=lambda r: r.headers,
            tokens_of=lambda r: r.usage.input_tokens if r.usage else None,
        )
        d = outcome.decision
        if outcome.error is not None and d is not None and d.kind is RetryKind.PERMANENT and d.status != 400:
            halted.append(f"embedding failed: {outcome.error}")
        return batch_keys, outcome

    saved_at = time.monotonic()
    if batches:
        workers = max(1, min(concurrency, len(batches)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lse-embed") as pool:
            pending: set[Future] = {pool.submit(work, [keys[i] for i in b]) for b in batches}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    batch_keys, outcome = fut.result()
                    if outcome is None:  # not sent: an earlier batch was refused for good
                        failures.update((k, halted[0]) for k in batch_keys)
                        continue
                    requests += outcome.attempts
                    usage.add(outcome.failed_usage)
                    if outcome.error is not None or outcome.value is None:
                        d = outcome.decision
                        if (
                            d is not None
                            and d.kind is RetryKind.PERMANENT
                            and d.status == 400
                            and len(batch_keys) > 1
                            and not caller.stop.is_set()
                        ):
                            # one unusable input rejects its whole batch: bisect to isolate it
                            half = len(batch_keys) // 2
                            pending |= {pool.submit(work, batch_keys[:half]), pool.submit(work, batch_keys[half:])}
                            continue
                        failures.update((k, f"embedding failed: {outcome.error}") for k in batch_keys)
                        continue
                    call = outcome.value
                    usage.add(call.usage)
                    for k, vec in zip(batch_keys, call.vectors, strict=True):
                        if "gt" in roles[k]:
                            gt_cache.put(texts[k], vec)
                        if "out" in roles[k]:
                            out_cache.put(texts[k], vec)
                    if time.monotonic() - saved_at >= SAVE_EVERY_S:  # each save rewrites a whole cache
                        gt_cache.save()
                        out_cache.save()
                        saved_at = time.monotonic()
                    on_batch()
    gt_cache.save()
    out_cache.save()
    return Embedded(
        pairs=pairs,
        unscorable=unscorable,
        failures=failures,
        usage=usage,
        requests=requests,
        batches=len(batches),
        inputs_embedded=len(keys),
        cache_hits=hits,
        stopped=caller.stop.is_set(),
        errors=sorted(set(failures.values()))[:5],
    )
