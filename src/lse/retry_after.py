"""Compatibility import: the wait parsers live in `lse.retry.waits` (one place for all of them)."""

from lse.retry.waits import duration_s, retry_after_ms, retry_after_s

__all__ = ["duration_s", "retry_after_ms", "retry_after_s"]
