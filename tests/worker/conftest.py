from __future__ import annotations

from helpers.redis_fixtures import redis_url  # noqa: F401 -- a fixture, used by name
