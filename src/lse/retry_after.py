"""Parsing the waits servers ask for: `Retry-After` (seconds or an HTTP date),
`retry-after-ms`, and OpenAI's `x-ratelimit-reset-*` durations ("1s", "6m0s", "20ms").

One place for what LangSmith and OpenAI retry paths both read; a value that does not
parse is None ("the server did not say"), never an exception.
"""

from __future__ import annotations

import email.utils
import re
import time

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
    """A reset duration such as "1s", "6m0s", "20ms" or "0.5" in seconds."""
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
