"""Per-endpoint rate limits the way OpenAI reports and enforces them.

OpenAI limits requests and tokens per minute (RPM, TPM), each a token bucket of the
per-minute size refilled continuously; every answer reports it as
`x-ratelimit-limit-*` (the per-minute limit), `x-ratelimit-remaining-*` (tokens left) and
`x-ratelimit-reset-*` (the time until the bucket is full again). OpenAI also documents
that a per-minute limit may be enforced over shorter periods ("quantized": 60 RPM as 1
request per second), so a burst can be refused while `remaining` shows room: with
`rate_limit_quantum_s` set (default 1 s) each enforced limit has a second bucket of one
quantum's share, refilled at the same rate. A refusal is 429 `rate_limit_exceeded`
(type `requests` or `tokens`) with `retry-after-ms` = the exact wait until the call
would be admitted (rounded up), `retry-after` = the same in whole seconds, and the
bucket report. Requests are charged at admission; tokens at admission by estimate
(input + `max_output_tokens`), settled to the usage once the answer is known.

Without a `rate_limit_rpm` / `rate_limit_tpm` fault the limits are nominal (10,000 requests
and 2,000,000 tokens a minute) and never refuse anything, but they still drain and
refill so the headers move the way a client expects. Changing a limit field starts fresh,
full buckets.
"""

from __future__ import annotations

import math
import threading

from .errors import SandboxAPIError
from .faults import OpenAIFaults
from .limiter import TokenBucket, format_reset

NOMINAL_RPM = 10_000
NOMINAL_TPM = 2_000_000
ORGANIZATION = "org-sandbox"


class MinuteLimit:
    """One enforced per-minute limit: the reported bucket and, when quantized, its short twin."""

    def __init__(self, per_minute: float, quantum_s: float | None) -> None:
        rate = per_minute / 60.0
        self.per_minute = per_minute
        self.minute = TokenBucket(rate, per_minute)
        self.quantum = TokenBucket(rate, max(1.0, rate * quantum_s)) if quantum_s else None

    def _buckets(self) -> list[TokenBucket]:
        return [self.minute] + ([self.quantum] if self.quantum else [])

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` fits every bucket; an amount over the quantum's size needs
        only a full quantum bucket (a call bigger than one second's share is not refused forever)."""
        waits = [b.wait_for(min(amount, b.capacity)) for b in self._buckets()]
        return max(waits)

    def take(self, amount: float) -> None:
        for b in self._buckets():
            b.consume(amount)

    def refund(self, amount: float) -> None:
        for b in self._buckets():
            b.refund(amount)

    def used(self) -> int:
        return int(self.per_minute - self.minute.remaining())


def _retry_headers(wait_s: float) -> dict[str, str]:
    ms = max(1, math.ceil(wait_s * 1000))
    return {"retry-after-ms": str(ms), "retry-after": str(max(1, math.ceil(ms / 1000)))}


class EndpointLimits:
    """Limits for one endpoint; only an endpoint built with `follows_rate_fault` obeys the
    `rate_limit_*` faults (they are specified for /v1/responses)."""

    def __init__(self, follows_rate_fault: bool) -> None:
        self._follows_rate_fault = follows_rate_fault
        self._nominal_requests = TokenBucket(NOMINAL_RPM / 60.0, NOMINAL_RPM)
        self._nominal_tokens = TokenBucket(NOMINAL_TPM / 60.0, NOMINAL_TPM)
        self._enforced: dict[str, MinuteLimit | None] = {"requests": None, "tokens": None}
        self._enforced_key: tuple[object, ...] | None = None
        self._lock = threading.Lock()

    def _limits(self, faults: OpenAIFaults) -> dict[str, MinuteLimit | None]:
        """The enforced limits now (None for a nominal one); a changed fault starts afresh."""
        if not self._follows_rate_fault:
            return {"requests": None, "tokens": None}
        key = (faults.rate_limit_rpm, faults.rate_limit_tpm, faults.rate_limit_quantum_s)
        if self._enforced_key != key:
            quantum = faults.rate_limit_quantum_s or None
            self._enforced = {
                "requests": MinuteLimit(faults.rate_limit_rpm, quantum) if faults.rate_limit_rpm else None,
                "tokens": MinuteLimit(faults.rate_limit_tpm, quantum) if faults.rate_limit_tpm else None,
            }
            self._enforced_key = key
        return self._enforced

    def admit(self, faults: OpenAIFaults, tokens: float = 0.0) -> None:
        """Charge one request (and `tokens` estimated tokens) or raise the 429 that says how long to wait."""
        with self._lock:
            limits = self._limits(faults)
            amounts = {"requests": 1.0, "tokens": float(tokens)}
            waits = {k: (lim.wait_for(amounts[k]) if lim else 0.0) for k, lim in limits.items()}
            refused = next((k for k in ("requests", "tokens") if waits[k] > 0), None)
            if refused is None:
                for kind, limit in limits.items():
                    if limit:
                        limit.take(amounts[kind])
                    elif kind == "requests":
                        self._nominal_requests.consume(1)
                return
            lim = limits[refused] or MinuteLimit(1, None)  # a refusal always comes from an enforced limit
        wait = max(waits.values())
        unit = "requests per min (RPM)" if refused == "requests" else "tokens per min (TPM)"
        raise SandboxAPIError(
            429,
            f"Rate limit reached in organization {ORGANIZATION} on {unit}: Limit {lim.per_minute:g}, "
            f"Used {lim.used()}, Requested {amounts[refused]:g}. Please try again in {math.ceil(wait * 1000)}ms. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            type=refused,
            code="rate_limit_exceeded",
            headers=_retry_headers(wait),
        )

    def settle_tokens(self, faults: OpenAIFaults, estimated: float, used: float) -> None:
        """The answer used `used` tokens after `estimated` were charged at admission."""
        with self._lock:
            lim = self._limits(faults)["tokens"]
            if lim is None:
                self._nominal_tokens.consume(used)
            elif used > estimated:
                lim.take(used - estimated)
            else:
                lim.refund(estimated - used)

    def consume_tokens(self, tokens: int) -> None:
        """Tokens used by an endpoint that does not follow the rate faults (reported only)."""
        self._nominal_tokens.consume(tokens)

    def forced_rate_limit(self, faults: OpenAIFaults) -> SandboxAPIError:
        """The 429 of the `rate_limit_next` / `rate_limit_share` faults: the bucket reported
        empty, the next request allowed after `rate_limit_retry_after_ms`, the bucket full
        after `rate_limit_reset_s` (default: the same wait)."""
        wait_s = max(0, faults.rate_limit_retry_after_ms) / 1000
        reset_s = faults.rate_limit_reset_s if faults.rate_limit_reset_s is not None else wait_s
        headers = _retry_headers(wait_s)
        headers.update({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": format_reset(reset_s)})
        return SandboxAPIError(
            429,
            f"Rate limit reached in organization {ORGANIZATION} on requests per min (RPM). "
            f"Please try again in {faults.rate_limit_retry_after_ms}ms.",
            type="requests",
            code="rate_limit_exceeded",
            headers=headers,
        )

    def headers(self, faults: OpenAIFaults) -> dict[str, str]:
        with self._lock:
            limits = self._limits(faults)
            report: dict[str, str] = {}
            for kind, nominal in (("requests", self._nominal_requests), ("tokens", self._nominal_tokens)):
                lim = limits[kind]
                bucket = lim.minute if lim else nominal
                report[f"x-ratelimit-limit-{kind}"] = str(int(bucket.capacity))
                report[f"x-ratelimit-remaining-{kind}"] = str(bucket.remaining())
                report[f"x-ratelimit-reset-{kind}"] = format_reset(bucket.reset_after_s())
            return report
