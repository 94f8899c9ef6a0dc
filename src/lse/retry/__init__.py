"""One retry stack for every remote call: a pure classifier, one policy builder, one wait parser.

- `decision`: what to do about a failure (`RetryKind`, `RetryDecision`);
- `waits`: the one place that reads the waits servers ask for (`Retry-After`,
  `retry-after-ms`, `x-ratelimit-*` reports);
- `classifier`: `ServiceRules` (one table per remote service: statuses, error codes,
  exception types) and the pure functions that judge an error or a status by a table;
- `policy`: the tenacity `Retrying` every caller is built from.

A service differs from another only by its `ServiceRules` value, never by a parallel class.
"""

from lse.retry.classifier import ServiceRules, classify_error, classify_status, error_code, error_message
from lse.retry.decision import RetryDecision, RetryKind
from lse.retry.policy import retrying
from lse.retry.waits import BucketReport, bucket_report, duration_s, requested_wait_s, retry_after_ms, retry_after_s

__all__ = [
    "BucketReport",
    "RetryDecision",
    "RetryKind",
    "ServiceRules",
    "bucket_report",
    "classify_error",
    "classify_status",
    "duration_s",
    "error_code",
    "error_message",
    "requested_wait_s",
    "retry_after_ms",
    "retry_after_s",
    "retrying",
]
