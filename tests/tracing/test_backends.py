"""The execution backends export a run when it completes: the in-process pool (`lse serve`)
and the Celery task (`lse worker`) both call the tracing hook; the run never waits on it
failing."""

from __future__ import annotations

from collections import Counter

from helpers.fast_eval import run_row
from helpers.tracing_runs import QUESTIONS, csv_bytes
from lse.datasets.service import DatasetUpload, upload_dataset
from lse.evals.configs import create_config
from lse.evals.runs import create_run
from lse.evals.schemas import ConfigCreate, RunCreate
from lse.tenancy import ensure_tenant
from lse.tracing import tracing_status


def _pending_run(settings) -> int:
    tenant = ensure_tenant(settings, "acme", "support")
    dataset = upload_dataset(
        settings,
        tenant,
        DatasetUpload(name="golden", data=csv_bytes(QUESTIONS), filename="g.csv", content_type="text/csv"),
    )
    config = create_config(
        settings,
        tenant,
        ConfigCreate(
            name="bot",
            config_blob={"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini"}}},
        ),
    )
    body = RunCreate(
        experiment_name="r", dataset_id=dataset.dataset_id, config_id=config.id, config_version=1, run_mode="fast"
    )
    return create_run(settings, tenant, body, available_modes={"fast"}).id


def test_the_in_process_pool_exports_a_run_when_it_completes(lf_settings, langfuse_sandbox) -> None:
    from lse.worker.pool import InProcessPool

    run_id = _pending_run(lf_settings)
    pool = InProcessPool(lf_settings)
    try:
        pool.submit(run_id).result(timeout=60)
    finally:
        pool.shutdown(wait=True)
    assert run_row(lf_settings, run_id).status == "completed"
    assert tracing_status(lf_settings, run_id)["langfuse"]["state"] == "confirmed"
    roots = Counter(o["traceId"] for o in langfuse_sandbox.state.observations if o["isRootObservation"])
    assert len(roots) == 5 and set(roots.values()) == {1}


def test_the_celery_task_exports_a_run_when_it_completes_and_survives_a_dead_target(
    lf_settings, langfuse_sandbox, monkeypatch
) -> None:
    from lse.worker.tasks import run_fast

    run_id = _pending_run(lf_settings)
    for name, value in {
        "LSE_DATA_DIR": str(lf_settings.data_dir),
        "OPENAI_BASE_URL": lf_settings.openai_base_url,
        "OPENAI_API_KEY": lf_settings.openai_api_key.get_secret_value(),
        "LANGFUSE_PUBLIC_KEY": langfuse_sandbox.public_key,
        "LANGFUSE_SECRET_KEY": langfuse_sandbox.secret_key,
        "LANGFUSE_HOST": langfuse_sandbox.url,
        "LSE_TRACING_TARGETS": "langfuse",
        "LSE_TRACING_REQUESTS_PER_MINUTE": "60000",
        "LSE_REQUEST_TIMEOUT_S": "2",
    }.items():
        monkeypatch.setenv(name, value)
    langfuse_sandbox.stop()  # the target is down when the run completes

    assert run_fast(run_id) == "completed"  # the task body, as a worker runs it

    assert run_row(lf_settings, run_id).status == "completed"
    status = tracing_status(lf_settings, run_id)["langfuse"]
    assert (status["state"], status["pending"]) == ("pending", 5) and status["last_error"]
