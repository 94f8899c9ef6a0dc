"""`redis_url`: a Redis database of its own for one test (numbers 8-15, picked free), flushed after.

With CI=true an unreachable Redis fails the test; elsewhere it skips with the reason."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_HOST = os.environ.get("LSE_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("LSE_TEST_REDIS_PORT", "6379"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    try:
        admin = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2)
        admin.ping()
    except Exception as exc:  # noqa: BLE001 -- any failure to reach Redis is the reason to skip or fail
        reason = f"Redis at {REDIS_HOST}:{REDIS_PORT} unreachable: {exc}"
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    token = uuid.uuid4().hex
    chosen = None
    for db in range(8, 16):
        r = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
        if r.set("lse-test-lock", token, nx=True, ex=600):  # claim an idle db for this test
            chosen = db
            break
    if chosen is None:
        pytest.skip("no free Redis database among 8-15")
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{chosen}"
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=chosen).flushdb()
