"""Per-endpoint rate-limit state: the enforced request bucket (when a fault asks for one) and
the nominal buckets that feed the `x-ratelimit-*` headers on every response.

Without a `rate_limit_rps` fault the limits are nominal (10,000 requests and 2,000,000 tokens a
minute) and never refuse anything, but they still drain and refill so the headers move the way
a client expects. With the fault on, the request headers describe the enforced bucket.
"""

from __future__ import annotations

import math
import threading

from .errors import rate_limited
from .faults import OpenAIFaults
from .limiter import TokenBucket, format_reset

NOMINAL_RPM = 10_000
NOMINAL_TPM = 2_000_000


class EndpointLimits:
    """Limits for one endpoint; only an endpoint built with `follows_rate_fault` obeys
    `rate_limit_rps` (the fault is specified for /v1/responses)."""

    def __init__(self, follows_rate_fault: bool) -> None:
        self._follows_rate_fault = follows_rate_fault
        self._nominal_requests = TokenBucket(NOMINAL_RPM / 60.0, NOMINAL_RPM)
        self._tokens = TokenBucket(NOMINAL_TPM / 60.0, NOMINAL_TPM)
        self._enforced: TokenBucket | None = None
        self._enforced_key: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def _requests_bucket(self, faults: OpenAIFaults) -> tuple[TokenBucket, bool]:
        """The bucket that governs requests now, and whether it is enforced.

        Changing `rate_limit_rps` or `rate_limit_burst` starts a fresh (full) bucket.
        """
        rps = faults.rate_limit_rps if self._follows_rate_fault else None
        if not rps:
            return self._nominal_requests, False
        key = (float(rps), int(faults.rate_limit_burst or 1))
        with self._lock:
            if self._enforced is None or self._enforced_key != key:
                self._enforced = TokenBucket(key[0], key[1])
                self._enforced_key = key
            return self._enforced, True

    def admit(self, faults: OpenAIFaults) -> None:
        """Take one request token or raise the 429 that tells the client how long to wait."""
        bucket, enforced = self._requests_bucket(faults)
        if not enforced:
            bucket.consume(1)
            return
        got = bucket.try_acquire(1)
        if not got.granted:
            wait_ms = max(1, math.ceil(got.wait_s * 1000))
            raise rate_limited(
                f"Rate limit reached for requests on requests per second (RPS): Limit {bucket.rate:g}, "
                f"Used {bucket.capacity:g}, Requested 1. Please try again in {wait_ms}ms. "
                "Visit https://platform.openai.com/account/rate-limits to learn more.",
                got.wait_s,
                reset=format_reset(bucket.reset_after_s()),
            )

    def consume_tokens(self, tokens: int) -> None:
        self._tokens.consume(tokens)

    def headers(self, faults: OpenAIFaults) -> dict[str, str]:
        bucket, _ = self._requests_bucket(faults)
        return {
            "x-ratelimit-limit-requests": str(int(bucket.capacity)),
            "x-ratelimit-remaining-requests": str(bucket.remaining()),
            "x-ratelimit-reset-requests": format_reset(bucket.reset_after_s()),
            "x-ratelimit-limit-tokens": str(int(self._tokens.capacity)),
            "x-ratelimit-remaining-tokens": str(self._tokens.remaining()),
            "x-ratelimit-reset-tokens": format_reset(self._tokens.reset_after_s()),
        }
