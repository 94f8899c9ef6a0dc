"""`lse demo`: the offline demo on embedded defaults.

Starts the local LangSmith- and OpenAI-compatible servers on loopback, then runs the
real product paths against them: fetch a day (with the rationale `feedback_stats`
cannot carry), full-sweep it into the embedded database and query it, show the
monitoring status, run a fast evaluation of a small dataset, and publish it to the
LangSmith sandbox as an experiment on the golden dataset.
"""

from __future__ import annotations

import uuid
from datetime import UTC

import typer
from rich.panel import Panel

from lse.cli.console import BarProgress, out
from lse.cli.sandbox import demo_day
from lse.settings import load_settings

DEMO_PROJECT = "demo-project"
LS_KEY = "sandbox-key"


def demo(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Less output."),
) -> None:
    """Run the offline demo against the bundled sandbox servers (no network needed)."""
    from lse.cli.archive.fetch import render_fetch_report
    from lse.jobs.fetch import fetch_days
    from lse.sandbox.langsmith import LangSmithSandbox, default_demo_spec

    day = demo_day()
    with LangSmithSandbox(specs=[default_demo_spec(day, project=DEMO_PROJECT)], api_key=LS_KEY) as ls:
        settings = load_settings(langsmith_endpoint=ls.url, langsmith_api_key=LS_KEY, request_delay_ms=20)
        out.print(
            Panel.fit(
                f"lse demo — data in [bold]{settings.data_dir}[/]\n"
                f"LangSmith sandbox at {ls.url}, project {DEMO_PROJECT!r}, day {day}",
            )
        )
        out.rule("1. Archive fetch")
        with BarProgress(enabled=None if not quiet else False) as progress:
            report = fetch_days(settings, DEMO_PROJECT, [day], progress)
        out.print(render_fetch_report(report))
        d = report.days[0]
        coverage = d.runs_feedback_fetched / d.runs_with_feedback_stats if d.runs_with_feedback_stats else 1.0
        out.print(
            f"runs {d.runs}, traces {d.traces}, runs with feedback_stats {d.runs_with_feedback_stats}, "
            f"native feedback records {d.feedback_records}, feedback coverage {coverage:.0%}"
        )
        if d.example_rationale:
            ex = d.example_rationale
            out.print(
                f"recovered for run {ex['run_id']} key {ex['key']!r}: feedback_stats values = {{}} "
                "but the native record says:"
            )
            out.print_json(data=ex["value"])
        _continue_demo(settings, day, quiet)


def _continue_demo(settings, day, quiet: bool) -> None:
    """Database, monitoring and evaluation parts of the demo."""
    from lse.cli.archive.full_sweep import render_sweep
    from lse.cli.archive.status import render_status
    from lse.jobs.full_sweep import full_sweep
    from lse.monitoring.status import build_status
    from lse.store.engine import get_engine
    from lse.store.queries import verdict_summary

    out.rule("2. Full sweep into the embedded database")
    with BarProgress(enabled=None if not quiet else False) as progress:
        sweep = full_sweep(settings, DEMO_PROJECT, [day], progress)
    out.print(render_sweep(sweep))
    summary = verdict_summary(get_engine(settings), DEMO_PROJECT, day)
    out.print(f"SQL over {settings.effective_database_url}:")
    verdicts = {k: n for k, n in summary.verdicts.items() if k != "(none)"}
    out.print(f"  {summary.feedback_records} feedback records; verdicts among them: {verdicts}")
    factors = ", ".join(f"{name} ({n})" for name, n in summary.top_true_factors)
    out.print(f"  most frequent true rationale factors: {factors}")

    out.rule("3. Monitoring: lse archive status")
    for table in render_status(build_status(settings, project=DEMO_PROJECT, days=1)):
        out.print(table)

    out.rule("4. Fast evaluation on a golden dataset of approved traces")
    run_id = _fast_eval(settings, day, quiet)

    out.rule("5. Published to LangSmith: the golden dataset and an experiment on it")
    _publish(settings, run_id)


def _fast_eval(settings, day, quiet: bool) -> int:
    """Dataset from PASS verdicts → config → fast run against the sandbox model."""
    from datetime import datetime

    from pydantic import SecretStr
    from rich.table import Table

    from lse.cli.eval.show import results_table, summary_table
    from lse.datasets.from_archive import dataset_from_archive
    from lse.evals import configs, runs
    from lse.evals.schemas import ConfigCreate, RunCreate, RunMode
    from lse.sandbox.openai import OpenAISandbox
    from lse.tenancy import ensure_tenant
    from lse.worker import dispatch

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with OpenAISandbox(api_key="sk-sandbox") as oa:
        settings = settings.model_copy(
            update={"openai_base_url": oa.base_url, "openai_api_key": SecretStr("sk-sandbox")}
        )
        tenant = ensure_tenant(settings, "demo", "demo")
        dataset = dataset_from_archive(
            settings,
            tenant,
            name=f"approved-{stamp}",
            source_project=DEMO_PROJECT,
            days=[day],
            max_items=settings.eval_fast_max_unique_rows,
        )
        out.print(
            f"dataset {dataset.dataset_id}: {dataset.total_items} approved question/answer pairs "
            f"(eligible for fast: {dataset.eligible_for_fast})"
        )
        config = configs.create_config(
            settings,
            tenant,
            ConfigCreate.model_validate(
                {
                    "name": f"support-bot-{stamp}",
                    "commit_message": "demo",
                    "config_blob": {
                        "completion": {
                            "provider": "openai",
                            "type": "text",
                            "params": {
                                "model": "gpt-4o-mini",
                                "instructions": "Answer the customer in one sentence.",
                                "temperature": 0.2,
                                "max_output_tokens": 200,
                            },
                        }
                    },
                }
            ),
        )
        run = runs.create_run(
            settings,
            tenant,
            RunCreate(
                experiment_name=f"demo-{stamp}",
                dataset_id=dataset.dataset_id,
                config_id=uuid.UUID(config.id),
                config_version=1,
                run_mode=RunMode.fast,
            ),
            available_modes=dispatch.available_modes(settings),
        )
        with BarProgress(enabled=None if not quiet else False) as progress:
            dispatch.run_inline(settings, run.id, progress)
        detail = runs.get_run(settings, tenant, run.id, include_results=True)
    out.print(summary_table(detail))
    out.print(results_table(detail))
    cost = Table(title="Cost (synchronous rates, USD)")
    for col in ("stage", "model", "input", "cached", "output", "reasoning", "cost"):
        cost.add_column(col, justify="left" if col in ("stage", "model") else "right")
    for stage in ("responses", "embeddings"):
        entry = (detail.cost or {}).get(stage)
        if entry:
            u = entry.get("usage", {})
            cost.add_row(
                stage,
                str(entry.get("model")),
                str(u.get("input_tokens", 0)),
                str(u.get("cached_tokens", 0)),
                str(u.get("output_tokens", 0)),
                str(u.get("reasoning_tokens", 0)),
                _usd(entry.get("cost_usd")),
            )
    cost.add_row("total", "", "", "", "", "", _usd((detail.cost or {}).get("total_cost_usd")))
    out.print(cost)
    return detail.id


def _publish(settings, run_id: int) -> None:
    """Export the run to the LangSmith sandbox (the archive's source) and say where it is."""
    from lse.tracing import export_run, tracing_status

    (outcome,) = export_run(settings, run_id, target="langsmith")
    status = tracing_status(settings, run_id)["langsmith"] or {}
    out.print(
        f"run {run_id} → {outcome.state}: {status.get('exported', 0)} runs with cosine feedback, "
        f"each linked to its example (reference_example_id); lse's own cost on every run"
    )
    out.print(f"where to look: {outcome.location}")
    endpoint = settings.langsmith_endpoint
    out.print(
        f"  curl -H 'x-api-key: {LS_KEY}' '{endpoint}/datasets'   # the dataset, named org/project/dataset\n"
        f"  curl -H 'x-api-key: {LS_KEY}' '{endpoint}/sessions'   # the experiment: reference_dataset_id, end_time\n"
        "(the sandbox stops with the demo: run `lse sandbox langsmith` and `lse eval export RUN --to langsmith` "
        "to keep one up)"
    )


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"{value:.8f}"
