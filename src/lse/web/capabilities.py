"""What this deployment can do, asked of the services rather than assumed.

- Run modes: `lse.worker.dispatch.available_modes(settings)` — the viewer offers batch
  only where an engine for it is configured, exactly as the API accepts it.
- Cancelling a run: offered only where the service layer provides
  `cancel_run(settings, tenant, run_id)` (in `lse.worker.dispatch` or `lse.evals.runs`);
  without it the button is not shown and the action answers 501.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lse.errors import LseError
from lse.evals import runs
from lse.settings import Settings
from lse.worker import dispatch

CancelFn = Callable[..., Any]


class CancelNotAvailable(LseError):
    http_status = 501
    code = "cancel_not_available"


def run_modes(settings: Settings) -> list[str]:
    """Modes to offer, fast first."""
    return sorted(dispatch.available_modes(settings), key=lambda m: (m != "fast", m))


def cancel_service() -> CancelFn | None:
    for module in (dispatch, runs):
        fn = getattr(module, "cancel_run", None)
        if callable(fn):
            return fn
    return None
