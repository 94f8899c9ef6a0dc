"""Batch test kits: a `BatchKit` bundling what every batch step takes (repository, SDK client,
object store, config without sleeps) with short-hands to drive one batch to its end, and a
`RunDriver` that steps whole batch runs as the pollers do, on a clock tests move."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import openai
from sqlalchemy import update

from helpers.fast_eval import fast_settings, make_fast_run
from lse.evals.batch.collect import CollectResult, collect_batch
from lse.evals.batch.config import BatchConfig, BatchLimits, RemoteRetry
from lse.evals.batch.driver import advance_batch
from lse.evals.batch.pollers import advance_batch_runs
from lse.evals.batch.prepare import PreparedRound, RoundItem, prepare_round
from lse.evals.batch.repository import BatchRepository
from lse.evals.batch.run_step import RunStep
from lse.evals.pipeline.repository import RunRepository
from lse.objects import ObjectStore, object_store
from lse.providers.client import openai_client
from lse.sandbox.openai import OpenAISandbox
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun, utcnow

MODEL = "gpt-4o-mini"
PARAMS = {"model": MODEL, "instructions": "Answer briefly.", "temperature": 0.2, "max_output_tokens": 200}


def questions(n: int) -> list[str]:
    return [f"Question {i}: which river flows through the old city and reaches the eastern sea" for i in range(n)]


@dataclass
class BatchKit:
    settings: Settings
    sandbox: OpenAISandbox
    repo: BatchRepository
    client: openai.OpenAI
    store: ObjectStore
    config: BatchConfig
    owner: str = "worker-a"

    def run(self, n: int = 5, **kwargs: Any) -> int:
        run_id = make_fast_run(self.settings, kwargs.pop("questions", None) or questions(n), params=PARAMS, **kwargs)
        with unit_of_work(get_engine(self.settings)) as s:
            s.execute(update(EvaluationRun).where(EvaluationRun.id == run_id).values(run_mode="batch"))
        return run_id

    def items(self, run_id: int) -> list[RoundItem]:
        plan = RunRepository(get_engine(self.settings)).load_plan(run_id)
        return [RoundItem(i.item_id, i.question) for i in plan.items]

    def prepare(self, run_id: int, round_: int = 1, items: list[RoundItem] | None = None, **kw: Any) -> PreparedRound:
        return prepare_round(
            self.repo,
            self.store,
            run_id=run_id,
            round_=round_,
            model=MODEL,
            params=PARAMS,
            items=items if items is not None else self.items(run_id),
            limits=kw.pop("limits", self.config.limits),
            **kw,
        )

    def step(self, batch_id: int, **kw: Any):
        return advance_batch(
            self.repo, self.client, self.store, batch_id, owner=kw.pop("owner", self.owner), config=self.config, **kw
        )

    def collect(self, batch_id: int, **kw: Any) -> CollectResult:
        return collect_batch(
            self.repo, self.client, self.store, batch_id, owner=kw.pop("owner", self.owner), config=self.config, **kw
        )

    def run_to_collected(
        self, batch_id: int, *, seconds: float = 10.0, max_steps: int = 20, **kw: Any
    ) -> CollectResult:
        """Step the batch, letting sandbox time pass between steps, until it is collected."""
        for _ in range(max_steps):
            step = self.step(batch_id, **kw)
            if step.collected is not None:
                return step.collected
            self.sandbox.batches.advance(seconds)
        raise AssertionError(
            f"batch row {batch_id} not collected after {max_steps} steps: {self.repo.get(batch_id).state}"
        )


NO_SLEEP = RemoteRetry(max_attempts=4, max_wait_s=0.0, initial_wait_s=0.0, sleep=lambda s: None)


def make_kit(settings: Settings, sandbox: OpenAISandbox) -> BatchKit:
    s = fast_settings(settings, sandbox)
    config = BatchConfig(limits=BatchLimits(), poll_s=0.0, recover_grace_s=0.0, retry=NO_SLEEP)
    return BatchKit(s, sandbox, BatchRepository(get_engine(s)), openai_client(s), object_store(s), config)


def with_config(kit: BatchKit, **changes: Any) -> BatchKit:
    return replace(kit, config=replace(kit.config, **changes))


@dataclass
class RunDriver:
    """Whole batch runs, stepped as the pollers step them (`advance_batch_runs`), on a clock that
    moves only when told: the sandbox's batch clock and the `now` lse reads move together."""

    settings: Settings
    sandbox: OpenAISandbox
    offset: float = 0.0

    def now(self) -> datetime:
        return utcnow() + timedelta(seconds=self.offset)

    def pass_time(self, seconds: float) -> None:
        self.sandbox.batches.advance(seconds)
        self.offset += seconds

    def new_run(self, n: int = 5, **kwargs: Any) -> int:
        run_id = make_fast_run(self.settings, kwargs.pop("questions", None) or questions(n), params=PARAMS, **kwargs)
        with unit_of_work(get_engine(self.settings)) as s:
            s.execute(update(EvaluationRun).where(EvaluationRun.id == run_id).values(run_mode="batch"))
        return run_id

    def step(self, run_id: int) -> RunStep:
        (step,) = advance_batch_runs(self.settings, run_ids=[run_id], now=self.now)
        return step

    def run_to_end(self, run_id: int, *, seconds: float = 2.0, max_steps: int = 60) -> RunStep:
        for _ in range(max_steps):
            step = self.step(run_id)
            if step.action == "finished":
                return step
            assert step.action != "error", step.note
            self.pass_time(seconds)
        raise AssertionError(f"batch run {run_id} did not end after {max_steps} steps")


def make_driver(settings: Settings, sandbox: OpenAISandbox, **overrides: Any) -> RunDriver:
    values = {"eval_batch_poll_s": 1.0, **overrides}
    return RunDriver(fast_settings(settings, sandbox, **values), sandbox)
