"""Fast evaluation: Responses per item, then the shared embed → score → cost → finish stages.

`execute_run(settings, run_id, progress)` is the whole job; the worker layer decides
where it runs (in-process pool, CLI inline, Celery). See docs/fast-evaluation.md.
"""

from lse.evals.fast.orchestrator import execute_run
from lse.evals.pipeline.stages import RunOutcome

__all__ = ["RunOutcome", "execute_run"]
