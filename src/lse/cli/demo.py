"""`lse demo`: the offline demo on embedded defaults.

Starts the local LangSmith- and OpenAI-compatible servers on loopback, then runs the
real product paths against them: fetch a day (with the rationale `feedback_stats`
cannot carry), full-sweep it into the embedded database and query it, show the
monitoring status, and run a fast evaluation of a small dataset.
"""

from __future__ import annotations

import typer
from rich.panel import Panel

from lse.cli.console import BarProgress, err, out
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
        settings = load_settings(
            langsmith_endpoint=ls.url, langsmith_api_key=LS_KEY, request_delay_ms=20
        )
        out.print(Panel.fit(
            f"lse demo — data in [bold]{settings.data_dir}[/]\n"
            f"LangSmith sandbox at {ls.url}, project {DEMO_PROJECT!r}, day {day}",
        ))
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


def _continue_demo(settings, day, quiet: bool) -> None:  # noqa: ANN001
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
