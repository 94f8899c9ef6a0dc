"""The prepare stage: what every later stage of one run needs, loaded and checked once.

Inputs: settings, the run's repository and id. Output: a `RunContext` (plan, clients,
object store, stop signal, where units go) whose `refusal` is the one-line reason the run
cannot start, if any (nothing is persisted here; the caller finishes the run as failed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lse.evals.pipeline.caller import Caller, StopSignal
from lse.evals.pipeline.records import RunPlan
from lse.evals.pipeline.repository import RunRepository
from lse.evals.pipeline.status import StageJob
from lse.evals.rate import RateAdapter, budget_for
from lse.objects import object_store
from lse.objects.base import ObjectStore
from lse.progress import Progress
from lse.providers.client import openai_client
from lse.settings import Settings
from lse.tenancy.credentials import settings_for_run

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class ModeNames:
    """Where one run mode records its stages: job types and the unit key prefix."""

    responses_job: StageJob
    embeddings_job: StageJob
    unit_prefix: str


FAST = ModeNames(StageJob.FAST_RESPONSES, StageJob.FAST_EMBEDDINGS, "fast-eval")
BATCH = ModeNames(StageJob.BATCH_RESPONSES, StageJob.BATCH_EMBEDDINGS, "batch-eval")


@dataclass
class RunContext:
    settings: Settings
    repo: RunRepository
    plan: RunPlan
    names: ModeNames
    progress: Progress
    refusal: str | None = None  # why the run cannot start
    stop: StopSignal = field(default_factory=StopSignal)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)  # per stage: attempts, adapter figures
    skipped: list[str] = field(default_factory=list)  # stages found done and not run again

    @property
    def run_id(self) -> int:
        return self.plan.run_id

    @cached_property
    def store(self) -> ObjectStore:
        return object_store(self.settings)

    @cached_property
    def provider_settings(self) -> Settings:
        """The settings this run calls its provider with: its project's own OpenAI key when
        the project stored one (lse.tenancy.credentials), else the deployment's."""
        return settings_for_run(self.settings, self.run_id)

    @cached_property
    def client(self) -> Any:
        """The OpenAI SDK client, built by the one factory on first use."""
        return openai_client(self.provider_settings)

    def caller(self, route: str) -> Caller:
        """A caller for `route` ("responses", "embeddings"): this run's window in front of the
        budget every run on the same endpoint and key shares."""
        s = self.provider_settings  # one budget per endpoint and key: the key this run uses
        base = (s.openai_base_url or DEFAULT_OPENAI_BASE_URL).rstrip("/")
        key = s.openai_api_key.get_secret_value() if s.openai_api_key else ""
        budget = budget_for(f"{base}/{route}", key, redis_url=s.celery_broker_url)
        return Caller(
            RateAdapter(s.eval_fast_api_concurrency, budget),
            self.stop,
            max_attempts=s.eval_fast_max_attempts,
            max_rate_limited=s.eval_fast_max_rate_limited_attempts,
            max_wait_s=s.retry_max_wait_s,
        )


def prepare(
    settings: Settings,
    repo: RunRepository,
    run_id: int,
    progress: Progress,
    names: ModeNames,
    stop: StopSignal | None = None,
) -> RunContext:
    """The run's context; `refusal` says why it cannot run, if it cannot. `stop`: a signal made
    before the plan was loaded (the heartbeat's cancel watch), else a fresh one."""
    plan = repo.load_plan(run_id)
    ctx = RunContext(settings=settings, repo=repo, plan=plan, names=names, progress=progress)
    if stop is not None:
        ctx.stop = stop
    provider = plan.completion.get("provider") or "openai"
    if provider != "openai":
        ctx.refusal = f"provider {provider!r} has no {plan.run_mode} engine; only 'openai'"
    elif not plan.model:
        ctx.refusal = "the config version has no completion.params.model: add one in a new config version"
    elif not plan.items:
        ctx.refusal = f"dataset {plan.dataset_id} has no items"
    return ctx
