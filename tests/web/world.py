"""A small world for the viewer tests, seeded only through the product's real paths.

- the archive: two LangSmith projects served by the LangSmith sandbox, fetched and
  loaded with `full_sweep` (the `lse archive full-sweep` job);
- two tenants (acme/support sees `support-prod`, globex/other sees `other-team`), keys
  from `create_key`;
- datasets through the evaluation services (a CSV upload and a build from archived
  PASS verdicts), configs through `create_config`, and fast runs executed against the
  OpenAI sandbox by the real engine.

`expected_archive` is the oracle for the archive pages: it counts from the sandbox's own
world (what LangSmith holds), never from the viewer's queries.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lse.evals import configs, runs
from lse.evals.archive_datasets import dataset_from_archive
from lse.evals.datasets import DatasetUpload, upload_dataset
from lse.evals.schemas import ConfigCreate, RunCreate, RunMode
from lse.jobs.full_sweep import full_sweep
from lse.sandbox.langsmith import LangSmithSandbox, SandboxSpec
from lse.settings import Settings
from lse.tenancy import Tenant, create_key
from lse.worker import dispatch

DAYS = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]
ACME_PROJECT = "support-prod"
GLOBEX_PROJECT = "other-team"
GLOBEX_MARK = "GLOBEX-ONLY"  # appears in every globex object name a page could show
_ENV_PREFIXES = ("LSE_", "LANGSMITH_", "LANGCHAIN_", "OPENAI_")

UPLOAD_CSV = (
    "question,answer,category\n"
    "What is the capital of France?,The capital of France is Paris.,geography\n"
    "How many legs does a spider have?,A spider has eight legs.,biology\n"
    '=HYPERLINK("http://example.invalid"),Formula cell,security\n'
    "What colour is the sky on a clear day?,On a clear day the sky is blue.,geography\n"
    "What gas do plants absorb?,Plants absorb carbon dioxide gas.,biology\n"
)


@dataclass
class DayTruth:
    runs: int = 0
    traces: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    criteria: dict[str, dict[str, int]] = field(default_factory=dict)
    roots: set[str] = field(default_factory=set)
    # (verdict or None, criterion or None) -> runs with one record matching both
    matching: dict[tuple[str | None, str | None], set[str]] = field(default_factory=dict)


@dataclass
class World:
    settings: Settings
    acme_key: str
    globex_key: str
    acme: Tenant
    globex: Tenant
    run_a: int  # acme, upload dataset, config v1
    run_b: int  # acme, same dataset, another config
    archive_run: int  # acme, dataset built from archived PASS verdicts
    globex_run: int
    upload_dataset_id: int
    config_id: str
    truth: dict[str, dict[date, DayTruth]]
    example_run_id: str = ""  # an acme root run with a verdict and a comment


@contextmanager
def clean_env():
    """Settings read the environment when built: build them without the developer's."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)}
    for k in saved:
        del os.environ[k]
    try:
        yield
    finally:
        os.environ.update(saved)


def truth_of(sb: LangSmithSandbox, project: str, days: list[date]) -> dict[date, DayTruth]:
    out = {}
    for day in days:
        t = DayTruth()
        day_runs = sb.world.runs_for_day(project, day)
        t.runs = len(day_runs)
        t.traces = len({r.get("trace_id") or r["id"] for r in day_runs})
        for r in day_runs:
            if r["parent_run_id"] is None:
                t.roots.add(r["id"])
            for f in sb.world.feedback_for_run(r["id"]):
                value = f.get("value")
                if not isinstance(value, dict):
                    continue
                verdict = value.get("verdict")
                rationale = value.get("rationale")
                true = [k for k, v in rationale.items() if v is True] if isinstance(rationale, dict) else []
                for c in true:
                    t.matching.setdefault((None, c), set()).add(r["id"])
                if isinstance(verdict, str):
                    t.matching.setdefault((verdict, None), set()).add(r["id"])
                    for c in true:
                        t.matching.setdefault((verdict, c), set()).add(r["id"])
                if verdict is not None:
                    verdict = str(verdict)
                    t.verdicts[verdict] = t.verdicts.get(verdict, 0) + 1
                    by = t.criteria.setdefault(verdict, {})
                    for name in true:
                        by[name] = by.get(name, 0) + 1
        out[day] = t
    return out


def _example_run(sb: LangSmithSandbox) -> str:
    for day in DAYS:
        for r in sb.world.runs_for_day(ACME_PROJECT, day):
            if r["parent_run_id"] is None:
                fb = sb.world.feedback_for_run(r["id"])
                if any(isinstance(f.get("value"), dict) and f.get("comment") for f in fb):
                    return r["id"]
    raise AssertionError("the sandbox world has no reviewed root run")


def _config(settings: Settings, tenant: Tenant, name: str, temperature: float, instructions: str) -> str:
    body = ConfigCreate.model_validate(
        {
            "name": name,
            "commit_message": "test",
            "config_blob": {
                "completion": {
                    "provider": "openai",
                    "type": "text",
                    "params": {"model": "gpt-4o-mini", "instructions": instructions, "temperature": temperature},
                }
            },
        }
    )
    return configs.create_config(settings, tenant, body).id


def run_now(settings: Settings, tenant: Tenant, name: str, dataset_id: int, config_id: str) -> int:
    run = runs.create_run(
        settings,
        tenant,
        RunCreate(
            experiment_name=name, dataset_id=dataset_id, config_id=config_id, config_version=1, run_mode=RunMode.fast
        ),
        available_modes=dispatch.available_modes(settings),
    )
    dispatch.run_inline(settings, run.id)
    return run.id


def build_world(root: Path, openai_base_url: str, openai_key: str, *, database_url: str | None = None) -> World:
    specs = [
        SandboxSpec(project=ACME_PROJECT, days=DAYS, traces_per_day=20, children_per_trace=(0, 3), seed=3),
        SandboxSpec(
            project=GLOBEX_PROJECT, days=DAYS[1:], traces_per_day=8, children_per_trace=(0, 2), seed=5, hard_cases=False
        ),
    ]
    with clean_env():
        settings = Settings(
            data_dir=root / "data",
            database_url=database_url,
            request_delay_ms=0,
            openai_base_url=openai_base_url,
            openai_api_key=SecretStr(openai_key),
            retry_max_wait_s=0.2,
            eval_fast_call_timeout_s=5.0,
            web_archive_access=f"acme/support={ACME_PROJECT};globex/other={GLOBEX_PROJECT}",
        )
    with LangSmithSandbox(specs, api_key="sandbox-key") as sb:
        ls = settings.model_copy(update={"langsmith_endpoint": sb.url, "langsmith_api_key": SecretStr("sandbox-key")})
        full_sweep(ls, ACME_PROJECT, DAYS, None)
        full_sweep(ls, GLOBEX_PROJECT, DAYS[1:], None)
        truth = {ACME_PROJECT: truth_of(sb, ACME_PROJECT, DAYS), GLOBEX_PROJECT: truth_of(sb, GLOBEX_PROJECT, DAYS[1:])}
        example = _example_run(sb)

    acme_key = create_key(settings, "acme", "support")
    globex_key = create_key(settings, "globex", "other")
    acme, globex = acme_key.tenant, globex_key.tenant
    upload = upload_dataset(
        settings,
        acme,
        DatasetUpload(name="geo-bio", data=UPLOAD_CSV.encode(), filename="geo-bio.csv", content_type="text/csv"),
    )
    approved = dataset_from_archive(
        settings,
        acme,
        name="approved",
        source_project=ACME_PROJECT,
        days=DAYS,
        max_items=settings.eval_fast_max_unique_rows,
    )
    config_a = _config(settings, acme, "bot-cool", 0.2, "Answer briefly.")
    config_b = _config(settings, acme, "bot-warm", 1.0, "Answer in one friendly sentence.")
    run_a = run_now(settings, acme, "first try", upload.dataset_id, config_a)
    run_b = run_now(settings, acme, "second try", upload.dataset_id, config_b)
    archive_run = run_now(settings, acme, "approved answers", approved.dataset_id, config_a)

    g_data = upload_dataset(
        settings,
        globex,
        DatasetUpload(
            name=f"{GLOBEX_MARK} dataset",
            data=f"question,answer\n{GLOBEX_MARK} question one?,yes\n{GLOBEX_MARK} question two?,no\n".encode(),
            filename="g.csv",
            content_type="text/csv",
        ),
    )
    g_config = _config(settings, globex, f"{GLOBEX_MARK} config", 0.2, "Answer briefly.")
    globex_run = run_now(settings, globex, f"{GLOBEX_MARK} run", g_data.dataset_id, g_config)
    return World(
        settings=settings,
        acme_key=acme_key.api_key,
        globex_key=globex_key.api_key,
        acme=acme,
        globex=globex,
        run_a=run_a,
        run_b=run_b,
        archive_run=archive_run,
        globex_run=globex_run,
        upload_dataset_id=upload.dataset_id,
        config_id=config_a,
        truth=truth,
        example_run_id=example,
    )


def matching(truth: dict[date, DayTruth], verdict: str | None, criterion: str | None, *, roots: bool) -> set[str]:
    out: set[str] = set()
    for t in truth.values():
        ids = t.matching.get((verdict, criterion), set())
        out |= (ids & t.roots) if roots else ids
    return out


def totals(truth: dict[date, DayTruth]) -> dict[str, Any]:
    verdicts: dict[str, int] = {}
    for t in truth.values():
        for k, n in t.verdicts.items():
            verdicts[k] = verdicts.get(k, 0) + n
    return {
        "days": sum(1 for t in truth.values() if t.runs),
        "runs": sum(t.runs for t in truth.values()),
        "traces": sum(t.traces for t in truth.values()),
        "verdicts": verdicts,
    }
