from __future__ import annotations

import pytest

from helpers.fast_eval import fast_settings
from helpers.redis_fixtures import redis_url  # noqa: F401 -- a fixture, used by name
from lse.settings import Settings


@pytest.fixture
def fs(settings: Settings, openai_sandbox):
    """Settings on a fresh SQLite database, pointed at a fresh OpenAI sandbox."""
    return fast_settings(settings, openai_sandbox)
