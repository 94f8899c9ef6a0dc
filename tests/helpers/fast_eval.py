"""Builders for fast-evaluation tests and the benchmark: a tenant, dataset, config and pending run
written straight into the database (no API), so engine tests need nothing but settings."""

from __future__ import annotations

from collections.abc import Sequence

from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import (
    Config,
    ConfigVersion,
    EvaluationDataset,
    EvaluationDatasetItem,
    EvaluationRun,
    Organization,
    Project,
)


def make_fast_run(
    settings: Settings,
    questions: Sequence[str] | int = 10,
    *,
    answers: Sequence[str] | None = None,
    params: dict | None = None,
    dataset_id: int | None = None,
    run_name: str | None = None,
) -> int:
    """Insert a pending fast run over a new dataset (or `dataset_id`); return the run id."""
    if isinstance(questions, int):
        questions = [f"Question number {i}: what is {i} plus {i}?" for i in range(questions)]
    answers = (
        list(answers)
        if answers is not None
        else [f"The answer to question {i} is {2 * i}." for i in range(len(questions))]
    )
    blob = {
        "completion": {
            "provider": "openai",
            "type": "text",
            "params": params
            or {
                "model": "gpt-4o-mini",
                "instructions": "Answer briefly.",
                "temperature": 0.2,
                "max_output_tokens": 200,
            },
        }
    }
    with unit_of_work(get_engine(settings)) as s:
        org = s.query(Organization).filter_by(name="fast-org").one_or_none()
        if org is None:
            org = Organization(name="fast-org")
            s.add(org)
            s.flush()
            s.add(Project(organization_id=org.id, name="fast-project"))
            s.flush()
        project = s.query(Project).filter_by(organization_id=org.id, name="fast-project").one()
        n_runs = s.query(EvaluationRun).count()
        config = Config(organization_id=org.id, project_id=project.id, name=f"cfg-{n_runs}")
        s.add(config)
        s.flush()
        s.add(ConfigVersion(config_id=config.id, version=1, config_blob=blob))
        if dataset_id is None:
            ds = EvaluationDataset(
                organization_id=org.id,
                project_id=project.id,
                name=f"ds-{n_runs}",
                total_items=len(questions),
                original_items=len(set(questions)),
            )
            s.add(ds)
            s.flush()
            for pos, (q, a) in enumerate(zip(questions, answers, strict=True)):
                s.add(EvaluationDatasetItem(dataset_id=ds.id, position=pos, question_id=pos, question=q, answer=a))
            dataset = ds
        else:
            dataset = s.get(EvaluationDataset, dataset_id)
        s.flush()
        run = EvaluationRun(
            organization_id=org.id,
            project_id=project.id,
            run_name=run_name or f"run-{n_runs}",
            run_mode="fast",
            status="pending",
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            config_id=config.id,
            config_version=1,
            total_items=dataset.total_items,
        )
        s.add(run)
        s.flush()
        return run.id


def run_dataset_id(settings: Settings, run_id: int) -> int:
    with unit_of_work(get_engine(settings)) as s:
        return s.get(EvaluationRun, run_id).dataset_id


def fast_settings(base: Settings, sandbox, **overrides) -> Settings:
    """`base` pointed at the OpenAI sandbox, with short waits so retries cost milliseconds."""
    from pydantic import SecretStr

    values = {
        "openai_base_url": sandbox.base_url,
        "openai_api_key": SecretStr(sandbox.api_key),
        "retry_max_wait_s": 0.2,
        "eval_fast_call_timeout_s": 5.0,
        **overrides,
    }
    return base.model_copy(update=values)


def item_rows(settings: Settings, run_id: int) -> list:
    from sqlalchemy import select

    from lse.store.models.evaluation import EvaluationItemResult

    with unit_of_work(get_engine(settings)) as s:
        return list(
            s.scalars(
                select(EvaluationItemResult)
                .where(EvaluationItemResult.run_id == run_id)
                .order_by(EvaluationItemResult.item_id)
            )
        )


def run_row(settings: Settings, run_id: int) -> EvaluationRun:
    with unit_of_work(get_engine(settings)) as s:
        return s.get(EvaluationRun, run_id)


def job_rows(settings: Settings, run_id: int) -> dict:
    from sqlalchemy import select

    from lse.store.models.evaluation import EvaluationJob

    with unit_of_work(get_engine(settings)) as s:
        return {j.job_type: j for j in s.scalars(select(EvaluationJob).where(EvaluationJob.run_id == run_id))}
