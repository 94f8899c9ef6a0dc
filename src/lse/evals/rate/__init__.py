"""Rate adaptation: a run's concurrency window (`adapter`) in front of one shared budget per
(endpoint, key) (`budget`) whose timetable lives in this process or in Redis (`schedule`)."""

from lse.evals.rate.adapter import RateAdapter, Slot
from lse.evals.rate.budget import RateBudget, budget_for

__all__ = ["RateAdapter", "RateBudget", "Slot", "budget_for"]
