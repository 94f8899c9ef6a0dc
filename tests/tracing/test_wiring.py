"""Where the exports meet the rest of the product: a project's own Langfuse keys, the
export status in a run's detail (API and CLI), Kaapi's `langfuse_dataset_id`, and a batch
run exported by the poller step that completes it."""

from __future__ import annotations

import json
import uuid
from collections import Counter

from pydantic import SecretStr

from helpers.batch_eval import make_driver
from helpers.cli import lse_env, run_lse
from helpers.fast_eval import run_row
from helpers.tracing_runs import completed_run, langfuse_env, langfuse_settings
from lse.datasets.service import get_dataset
from lse.sandbox.langfuse import LangfuseSandbox
from lse.tenancy import ensure_tenant
from lse.tenancy.credentials import CredentialsCreate, create_credentials, generate_secret_key
from lse.tracing import export_run, tracing_status
from lse.worker.batch_poller import step_batch_runs


def _roots(sb: LangfuseSandbox) -> Counter:
    return Counter(o["traceId"] for o in sb.state.observations if o["isRootObservation"])


def test_a_projects_own_langfuse_keys_win_over_the_deployments(lf_settings, langfuse_sandbox) -> None:
    settings = lf_settings.model_copy(update={"secret_key": SecretStr(generate_secret_key())})
    tag = uuid.uuid4().hex[:10]
    with LangfuseSandbox(public_key=f"pk-lf-own-{tag}", secret_key=f"sk-lf-own-{tag}") as own:
        tenant = ensure_tenant(settings, "acme", "byok")
        create_credentials(
            settings,
            tenant,
            CredentialsCreate(
                credential={"langfuse": {"public_key": own.public_key, "secret_key": own.secret_key, "host": own.url}}
            ),
        )
        byok_run = completed_run(settings, project="byok")
        shared_run = completed_run(settings, project="support", run_name="shared")
        for run_id in (byok_run, shared_run):
            [outcome] = export_run(settings, run_id)
            assert outcome.state == "confirmed", outcome

        assert len(_roots(own)) == 5 and set(_roots(own).values()) == {1}  # the project's own account
        assert len(_roots(langfuse_sandbox)) == 5  # only the other project's run went to the deployment's
        assert tracing_status(settings, byok_run)["langfuse"]["exported"] == 5


def test_a_runs_detail_and_its_dataset_say_where_it_was_exported(lf_settings, langfuse_sandbox) -> None:
    from fastapi.testclient import TestClient

    from lse.api.app import create_app
    from lse.tenancy import create_key

    run_id = completed_run(lf_settings)
    dataset_id = run_row(lf_settings, run_id).dataset_id
    tenant = ensure_tenant(lf_settings, "acme", "support")
    assert get_dataset(lf_settings, tenant, dataset_id).langfuse_dataset_id is None  # not pushed yet
    with TestClient(create_app(lf_settings)) as client:
        headers = {"X-API-KEY": create_key(lf_settings, "acme", "support").api_key}
        before = client.get(f"/api/v1/evaluations/{run_id}", headers=headers).json()["data"]["tracing"]
        assert before["langsmith"] is None  # not configured here
        assert (before["langfuse"]["state"], before["langfuse"]["exported"]) == ("not_queued", 0)

        export_run(lf_settings, run_id)

        after = client.get(f"/api/v1/evaluations/{run_id}", headers=headers).json()["data"]["tracing"]
        assert {k: after["langfuse"][k] for k in ("state", "exported", "pending", "failed")} == {
            "state": "confirmed",
            "exported": 5,
            "pending": 0,
            "failed": 0,
        }
        remote = client.get(f"/api/v1/evaluations/datasets/{dataset_id}", headers=headers).json()["data"]
    [(_name, dataset)] = langfuse_sandbox.state.datasets.items()
    assert remote["langfuse_dataset_id"] == dataset["id"]

    env = lse_env(LSE_DATA_DIR=str(lf_settings.data_dir), **langfuse_env(langfuse_sandbox))
    shown = run_lse("eval", "show", str(run_id), "--format", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["tracing"]["langfuse"]["exported"] == 5
    table = run_lse("eval", "show", str(run_id), env=env)
    assert table.returncode == 0 and "Tracing exports" in table.stdout and "confirmed" in table.stdout


def test_the_poller_step_that_completes_a_batch_run_exports_it(settings, openai_sandbox, langfuse_sandbox) -> None:
    driver = make_driver(settings, openai_sandbox)
    driver.settings = langfuse_settings(driver.settings, langfuse_sandbox)
    run_id = driver.new_run(5)
    for _ in range(60):
        steps = step_batch_runs(driver.settings, [run_id])
        if steps and steps[0].action == "finished":
            break
        assert not steps or steps[0].action != "error", steps[0].note
        openai_sandbox.batches.advance(2.0)
    assert run_row(driver.settings, run_id).status == "completed"
    status = tracing_status(driver.settings, run_id)["langfuse"]
    assert (status["state"], status["exported"]) == ("confirmed", 5)  # exported by that step, not a later pass
    assert len(_roots(langfuse_sandbox)) == 5
