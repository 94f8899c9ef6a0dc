"""The names batch mode writes: batch states, provider statuses, request outcomes, stages."""

from __future__ import annotations

STAGE_RESPONSES = "responses"
ENDPOINT_RESPONSES = "/v1/responses"

# Our side of a provider batch (evaluation_batches.state), in order.
PREPARED = "prepared"
UPLOADED = "uploaded"
SUBMITTED = "submitted"
TERMINAL = "terminal"
COLLECTED = "collected"
ABANDONED = "abandoned"
NOT_YET_CREATED = (PREPARED, UPLOADED)

# The provider's statuses that never change again.
PROVIDER_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# Ours, for a batch given up on past its deadline (collected as if expired).
DEADLINE = "deadline"

# A request's outcome (evaluation_batch_requests.outcome).
SUCCEEDED = "succeeded"
FAILED = "failed"
RETRY = "retry"
NOT_EXECUTED = "not_executed"
MISSING = "missing"
