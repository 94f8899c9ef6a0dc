"""Execution backends for evaluation runs: the in-process pool of `lse serve` and Celery workers."""
