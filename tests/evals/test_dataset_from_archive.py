"""Golden datasets from what reviewers approved, read from the archive database."""

from __future__ import annotations

from datetime import date

import pytest

from lse.datasets.from_archive import dataset_from_archive
from lse.datasets.service import dataset_items
from lse.errors import ValidationFailed
from lse.jobs.full_sweep import full_sweep
from lse.sandbox.langsmith import SandboxSpec
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.tenancy import ensure_tenant

DAY = date(2026, 11, 20)


def test_dataset_holds_the_approved_pairs_and_a_later_fail_removes_one(tmp_path, make_langsmith_sandbox, db_url):
    sb = make_langsmith_sandbox([SandboxSpec(days=[DAY], traces_per_day=20, hard_cases=False)], api_key="k")
    settings = Settings(
        data_dir=tmp_path / "d",
        database_url=db_url,
        langsmith_endpoint=sb.url,
        langsmith_api_key="k",
        request_delay_ms=0,
    )
    roots = [r for r in sb.world.runs_for_day("demo-project", DAY) if not r.get("parent_run_id")]
    passed = [
        r
        for r in roots
        for f in sb.world.feedback_for_run(r["id"])
        if f["key"] == "final_verdict" and f["value"]["verdict"] == "PASS"
    ]
    assert len(passed) >= 2
    overturned = passed[0]
    sb.world.add_feedback(overturned["id"], "final_verdict", value={"verdict": "FAIL", "rationale": {}}, score=0)
    full_sweep(settings, "demo-project", [DAY])
    tenant = ensure_tenant(settings, "acme", "support")
    ds = dataset_from_archive(settings, tenant, name="approved", source_project="demo-project", days=[DAY])
    expected = {r["inputs"]["question"] for r in passed[1:]}
    with unit_of_work(get_engine(settings)) as session:
        questions = {i.question for i in dataset_items(session, ds.dataset_id)}
    assert questions == expected
    assert overturned["inputs"]["question"] not in questions or overturned["inputs"]["question"] in expected
    assert ds.original_items == len(expected)
    with pytest.raises(ValidationFailed, match="no archived run"):
        dataset_from_archive(settings, tenant, name="none", source_project="demo-project", days=[DAY], verdict="MAYBE")
