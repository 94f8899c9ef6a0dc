"""Fast evaluation: Responses per item, batched embeddings, cosine scores, cost — in minutes.

`execute_run(settings, run_id, progress)` is the whole job; the worker layer decides
where it runs (in-process pool, CLI inline, Celery). See docs/fast-evaluation.md.
"""

from lse.evals.fast.orchestrator import FastRunOutcome, execute_run

__all__ = ["FastRunOutcome", "execute_run"]
