"""`lse worker`: a Celery worker consuming the `evaluations` queue."""

from __future__ import annotations

import typer


def worker() -> None:
    """Run a Celery worker for evaluation jobs (needs LSE_CELERY_BROKER_URL)."""
    raise typer.Exit(1)
