"""Stage 2: embed every output and every ground-truth answer in batched requests, then score.

Texts are de-duplicated by content hash, looked up in the caches first, and the rest
sent in requests of at most 2,048 inputs and a token budget (`plan_batches`) — not one
request per pair. Batches run concurrently through the same rate adapter as stage 1;
each finished batch is written to its cache at once, so a crash repeats only unfinished
batches. A batch the provider rejects as a whole with a 400 (one unusable input) is split
in halves until the bad input is alone; only its items end `not_scored`, with the reason.
Any other permanent refusal (404 model_not_found, 403) is about the model or the key, not
an input: splitting would only multiply failing calls, so the batches not yet sent are not
sent and every item left unembedded ends `not_scored` with that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from lse.evals.fast.caller import Caller
from lse.evals.fast.embedding_cache import EmbeddingCache, text_key
from lse.evals.fast.repository import ItemRecord, PlanItem
from lse.evals.fast.scoring import cosine
from lse.evals.retry import PERMANENT
from lse.providers.embeddings import EmbeddingCall, plan_batches
from lse.providers.usage import Usage

EmbedFn = Callable[[list[str]], EmbeddingCall]


@dataclass
class ItemScore:
    item_id: int
    score: float | None
    status: str  # scored | not_scored
    reason: str | None = None


@dataclass
class StageTwoResult:
    scores: dict[int, ItemScore]
    usage: Usage
    requests: int
    batches: int
    inputs_embedded: int
    cache_hits: int
    stopped: bool = False
    errors: list[str] = field(default_factory=list)


def run_embeddings(
    items: list[PlanItem],
    records: dict[int, ItemRecord],
    *,
    embed: EmbedFn,
    caller: Caller,
    gt_cache: EmbeddingCache,
    out_cache: EmbeddingCache,
    concurrency: int,
    on_batch: Callable[[], None] = lambda: None,
) -> StageTwoResult:
    scores: dict[int, ItemScore] = {}
    pairs: list[tuple[PlanItem, str]] = []
    for item in items:
        rec = records.get(item.item_id)
        if rec is None or rec.status != "succeeded":
            scores[item.item_id] = ItemScore(item.item_id, None, "not_scored", "no output: the response failed")
        elif not (rec.output or "").strip():
            scores[item.item_id] = ItemScore(item.item_id, None, "not_scored", "empty output")
        elif not (item.answer or "").strip():
            scores[item.item_id] = ItemScore(item.item_id, None, "not_scored", "empty ground truth")
        else:
            pairs.append((item, rec.output or ""))

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
    errors: dict[str, str] = {}
    requests = 0

    halted: list[str] = []  # the reason of a permanent non-400 refusal: no batch is sent after it

    def work(batch_keys: list[str]):
        if halted:
            return batch_keys, None
        outcome = caller.call(lambda: embed([texts[k] for k in batch_keys]), headers_of=lambda r: r.headers)
        d = outcome.decision
        if outcome.error is not None and d is not None and d.kind == PERMANENT and d.status != 400:
            halted.append(f"embedding failed: {outcome.error}")
        return batch_keys, outcome

    if batches:
        workers = max(1, min(concurrency, len(batches)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lse-embed") as pool:
            pending = {pool.submit(work, [keys[i] for i in b]) for b in batches}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    batch_keys, outcome = fut.result()
                    if outcome is None:  # not sent: an earlier batch was refused for good
                        errors.update((k, halted[0]) for k in batch_keys)
                        continue
                    requests += outcome.attempts
                    usage.add(outcome.failed_usage)
                    if outcome.error is not None:
                        d = outcome.decision
                        if (
                            d is not None
                            and d.kind == PERMANENT
                            and d.status == 400
                            and len(batch_keys) > 1
                            and not caller.stop.is_set()
                        ):
                            # one unusable input rejects its whole batch: bisect to isolate it
                            half = len(batch_keys) // 2
                            pending |= {pool.submit(work, batch_keys[:half]), pool.submit(work, batch_keys[half:])}
                            continue
                        errors.update((k, f"embedding failed: {outcome.error}") for k in batch_keys)
                        continue
                    call: EmbeddingCall = outcome.value
                    usage.add(call.usage)
                    for k, vec in zip(batch_keys, call.vectors, strict=True):
                        if "gt" in roles[k]:
                            gt_cache.put(texts[k], vec)
                        if "out" in roles[k]:
                            out_cache.put(texts[k], vec)
                    gt_cache.save()
                    out_cache.save()
                    on_batch()
    gt_cache.save()
    out_cache.save()

    for item, output in pairs:
        a, b = out_cache.get(output), gt_cache.get(item.answer)
        if a is None or b is None:
            reason = errors.get(text_key(output)) or errors.get(text_key(item.answer)) or "embedding missing"
            scores[item.item_id] = ItemScore(item.item_id, None, "not_scored", reason)
            continue
        value = cosine(np.asarray(a), np.asarray(b))
        if value is None:
            scores[item.item_id] = ItemScore(item.item_id, None, "not_scored", "zero or mismatched embedding")
        else:
            scores[item.item_id] = ItemScore(item.item_id, value, "scored")
    return StageTwoResult(
        scores=scores,
        usage=usage,
        requests=requests,
        batches=len(batches),
        inputs_embedded=len(keys),
        cache_hits=hits,
        stopped=caller.stop.is_set(),
        errors=sorted(set(errors.values()))[:5],
    )
