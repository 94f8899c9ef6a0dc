"""Where an evaluation run goes to be executed: in-process pool or Celery.

Contract used by the API and CLI (owned by the fast-mode work, lse/worker/):
- `available_modes(settings) -> set[str]`: run modes that have an engine now;
- `submit_run(settings, run_id)`: hand a pending run to the configured backend;
- `start_background(settings)` / `stop_background()`: the in-process pool's lifecycle,
  called by the API app's lifespan.
"""

from __future__ import annotations

from lse.errors import ValidationFailed
from lse.settings import Settings


def available_modes(settings: Settings) -> set[str]:
    return set()


def submit_run(settings: Settings, run_id: int) -> None:
    raise ValidationFailed("no evaluation engine is available yet", code="run_mode_not_available")


def start_background(settings: Settings) -> None:
    return None


def stop_background() -> None:
    return None


def run_inline(settings: Settings, run_id: int, progress=None) -> None:  # noqa: ANN001
    """Execute a run in this process (the CLI's `lse eval run`), reporting progress."""
    raise ValidationFailed("no evaluation engine is available yet", code="run_mode_not_available")
