from __future__ import annotations

import pytest

from helpers.redis_fixtures import redis_url  # noqa: F401 -- a fixture, used by name


@pytest.fixture(autouse=True)
def _fresh_rate_budgets():
    """Each test learns its sandbox's limits afresh (a new sandbox may reuse an old port)."""
    from lse.evals.rate.budget import forget_budgets

    forget_budgets()
    yield
    forget_budgets()
