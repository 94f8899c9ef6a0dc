from __future__ import annotations

import pytest

from helpers.fast_eval import fast_settings
from helpers.redis_fixtures import redis_url  # noqa: F401 -- a fixture, used by name
from lse.settings import Settings


@pytest.fixture(autouse=True)
def _fresh_rate_budgets():
    """Each test learns its sandbox's limits afresh (a new sandbox may reuse an old port)."""
    from lse.evals.rate.budget import forget_budgets

    forget_budgets()
    yield
    forget_budgets()


@pytest.fixture
def fs(settings: Settings, openai_sandbox):
    """Settings on a fresh SQLite database, pointed at a fresh OpenAI sandbox."""
    return fast_settings(settings, openai_sandbox)
