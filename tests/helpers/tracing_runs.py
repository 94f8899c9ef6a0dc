"""Completed evaluation runs built through the product path, for the tracing tests: a CSV
upload (the dataset service), a config, a run created like the API creates it, executed
by the fast engine against the OpenAI sandbox. Nothing is inserted by hand."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from pydantic import SecretStr

from lse.datasets.service import DatasetUpload, upload_dataset
from lse.evals.configs import create_config
from lse.evals.fast import execute_run
from lse.evals.runs import create_run
from lse.evals.schemas import ConfigCreate, RunCreate
from lse.sandbox.langfuse import LangfuseSandbox
from lse.settings import Settings
from lse.tenancy import Tenant, ensure_tenant

QUESTIONS = [
    ("What is 2+2?", "4"),
    ("What is the capital of France?", "Paris"),
    ("Who wrote Hamlet?", "William Shakespeare"),
    ("What colour is the sky on a clear day?", "Blue"),
    ("How many legs does a spider have?", "Eight"),
]


def csv_bytes(rows: Sequence[tuple[str, str]], categories: Sequence[str | None] | None = None) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["question", "answer", "category"])
    for i, (q, a) in enumerate(rows):
        writer.writerow([q, a, (categories[i] if categories else None) or ""])
    return buf.getvalue().encode("utf-8")


def upload(
    settings: Settings, tenant: Tenant, name: str, rows: Sequence[tuple[str, str]] = QUESTIONS, duplication: int = 1
) -> int:
    result = upload_dataset(
        settings,
        tenant,
        DatasetUpload(
            name=name,
            data=csv_bytes(rows),
            filename=f"{name}.csv",
            content_type="text/csv",
            duplication_factor=duplication,
        ),
    )
    return result.dataset_id


def run_on(settings: Settings, tenant: Tenant, dataset_id: int, run_name: str, model: str = "gpt-4o-mini") -> int:
    config = create_config(
        settings,
        tenant,
        ConfigCreate(
            name=f"bot-{run_name}",
            config_blob={
                "completion": {
                    "provider": "openai",
                    "type": "text",
                    "params": {"model": model, "instructions": "Answer briefly.", "temperature": 0.2},
                }
            },
        ),
    )
    run = create_run(
        settings,
        tenant,
        RunCreate(
            experiment_name=run_name, dataset_id=dataset_id, config_id=config.id, config_version=1, run_mode="fast"
        ),
        available_modes={"fast"},
    )
    outcome = execute_run(settings, run.id)
    assert outcome is not None and outcome.status == "completed", outcome
    return run.id


def completed_run(
    settings: Settings,
    *,
    org: str = "acme",
    project: str = "support",
    dataset: str = "golden",
    run_name: str = "try-1",
    rows: Sequence[tuple[str, str]] = QUESTIONS,
    duplication: int = 1,
) -> int:
    tenant = ensure_tenant(settings, org, project)
    return run_on(settings, tenant, upload(settings, tenant, dataset, rows, duplication), run_name)


def langfuse_settings(base: Settings, sb: LangfuseSandbox, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "langfuse_public_key": sb.public_key,
        "langfuse_secret_key": SecretStr(sb.secret_key),
        "langfuse_host": sb.url,
        "tracing_targets": "langfuse",
        "tracing_requests_per_minute": 60_000,
        "request_timeout_s": 3.0,
        **overrides,
    }
    return base.model_copy(update=values)


def langfuse_env(sb: LangfuseSandbox) -> dict[str, str]:
    """The environment that points a `lse` subprocess at this Langfuse sandbox, and only it."""
    return {
        "LANGFUSE_PUBLIC_KEY": sb.public_key,
        "LANGFUSE_SECRET_KEY": sb.secret_key,
        "LANGFUSE_HOST": sb.url,
        "LSE_TRACING_TARGETS": "langfuse",
    }
