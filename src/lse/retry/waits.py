"""The one place that reads the waits and budgets servers report.

- `Retry-After`: delta-seconds or an HTTP date (RFC 9110);
- `retry-after-ms`: OpenAI's (and its SDK's) millisecond form, preferred when present;
- `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: OpenAI's bucket report, where
  `reset` is the time until the bucket is *full* again, written "1s", "6m0s", "20ms".

A value that does not parse is None ("the server did not say"), never an exception: these
run while a failed call still holds its rate-budget slot.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After`: delta-seconds or an HTTP date; None when absent or unparseable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def retry_after_ms(value: str | None) -> float | None:
    """`retry-after-ms`, in seconds."""
    try:
        return max(0.0, float(value) / 1000.0) if value and value.strip() else None
    except ValueError:
        return None


def duration_s(value: str | None) -> float | None:
    """A reset duration such as "1s", "6m0s", "20ms" or "0.5", in seconds."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def requested_wait_s(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms` first, else `retry-after`."""
    h = _lower(headers)
    wait = retry_after_ms(h.get("retry-after-ms"))
    return wait if wait is not None else retry_after_s(h.get("retry-after"), now)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class BucketReport:
    """One `x-ratelimit-*-{kind}` triple: the provider's token bucket as it stood for this call."""

    limit: float | None
    remaining: float | None
    reset_s: float | None  # time until the bucket is full again (not until the next token)

    @property
    def refill_per_s(self) -> float | None:
        """limit ÷ window, measured: the missing tokens over the time to put them back."""
        if self.limit is None or self.remaining is None or not self.reset_s:
            return None
        missing = self.limit - self.remaining
        return missing / self.reset_s if missing > 0 else None


def bucket_report(headers: Mapping[str, str] | None, kind: str) -> BucketReport | None:
    """The `kind` ("requests" or "tokens") report in `headers`, None when it sent none."""
    h = _lower(headers)
    report = BucketReport(
        _number(h.get(f"x-ratelimit-limit-{kind}")),
        _number(h.get(f"x-ratelimit-remaining-{kind}")),
        duration_s(h.get(f"x-ratelimit-reset-{kind}")),
    )
    return None if report == BucketReport(None, None, None) else report
