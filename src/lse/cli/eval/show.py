"""`lse eval show RUN`: status, progress, score and cost of a run, a batch run's provider
batches (status, request counts, expiry, round); --results for every item."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from lse.cli.console import out, print_json
from lse.cli.eval import app
from lse.cli.safe_text import safe
from lse.evals.results_csv import results_csv
from lse.evals.schemas import RunDetail
from lse.settings import load_settings

FORMATS = ("table", "json", "csv")


def _fmt_score(score: dict | None) -> str:
    if not score:
        return "-"
    parts = []
    items = list(score.items())
    if isinstance(score.get("cosine_similarity"), dict):  # lse's own key for its metric
        items = [("cosine_similarity", score["cosine_similarity"])]
    elif isinstance(score.get("summary_scores"), list):  # Kaapi's shape: a list of named summaries
        items = [(s.get("name", "score"), s) for s in score["summary_scores"] if isinstance(s, dict)]
    for name, value in items:
        if isinstance(value, dict) and "avg" in value:
            avg, std = value.get("avg"), value.get("std")
            text = f"{name} avg {avg:.4f}" if isinstance(avg, (int, float)) else f"{name} avg {avg}"
            if isinstance(std, (int, float)):
                text += f" ± {std:.4f}"
            if "total_pairs" in value:
                text += f" (n={value['total_pairs']})"
            parts.append(text)
        else:
            parts.append(f"{name} {value}")
    return "; ".join(parts)


def _fmt_cost(cost: dict | None) -> str:
    if not cost:
        return "-"
    total = cost.get("total", cost.get("total_cost", cost.get("total_cost_usd")))
    currency = cost.get("currency", "USD")
    if isinstance(total, dict):
        currency = total.get("currency", currency)
        total = total.get("amount", total.get("cost", total.get("total")))
    return f"{total} {currency}" if total is not None else json.dumps(cost)


def summary_table(run: RunDetail) -> Table:
    table = Table(title=safe(f"Evaluation run {run.id}: {run.run_name}"), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    p = run.progress
    rows = [
        ("status", run.status),
        ("mode", run.run_mode),
        ("dataset", f"{run.dataset_id} ({run.dataset_name})"),
        ("config", f"{run.config_id} v{run.config_version}"),
        ("progress", f"{p.done}/{p.total} done, {p.succeeded} succeeded, {p.failed} failed"),
        ("score", _fmt_score(run.score)),
        ("cost", _fmt_cost(run.cost)),
    ]
    if run.error_message:
        rows.append(("error", run.error_message))
    if run.cancel_requested_at and run.status != "cancelled":
        rows.append(("cancel", f"requested at {run.cancel_requested_at:%Y-%m-%d %H:%M:%S} UTC; stopping"))
    for k, v in rows:
        table.add_row(k, safe(v))
    return table


def _counts(counts: dict | None) -> str:
    if not counts:
        return "-"
    return f"{counts.get('completed', 0)} ok, {counts.get('failed', 0)} failed / {counts.get('total', 0)}"


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "-"


def batches_table(run: RunDetail) -> Table:
    """Each provider batch of a batch run: where it is, what the provider counted, until when."""
    table = Table(title="Batches")
    for col in ("id", "round", "part", "state", "provider", "provider batch", "requests", "expires", "notes"):
        table.add_column(col, overflow="fold")
    for b in run.batches or []:
        notes = []
        if b.poll_failures:
            notes.append(f"{b.poll_failures} failed poll(s): {b.last_poll_error}")
        if b.anomalies:
            notes.append("anomalies: " + ", ".join(f"{a.get('kind')} ×{a.get('count', 1)}" for a in b.anomalies))
        if b.outcome:
            notes.append(b.outcome)
        if b.cancel_requested_at:
            notes.append("cancel requested")
        table.add_row(
            str(b.id),
            str(b.round),
            str(b.part),
            b.state,
            b.provider_status or "-",
            b.provider_batch_id or "-",
            f"{_counts(b.request_counts)} (sent {b.n_requests})",
            _when(b.expires_at),
            "; ".join(notes),
        )
    return table


def tracing_table(run: RunDetail) -> Table:
    """Where the run was exported: one row per configured target."""
    table = Table(title="Tracing exports")
    for col in ("target", "state", "exported", "pending", "failed", "last error"):
        table.add_column(col, overflow="fold")
    for name, status in (run.tracing or {}).items():
        if status is None:
            table.add_row(name, "not configured", "-", "-", "-", "")
            continue
        table.add_row(
            name,
            str(status.get("state")),
            str(status.get("exported", 0)),
            str(status.get("pending", 0)),
            str(status.get("failed", 0)),
            safe(status.get("last_error") or ""),
        )
    return table


def results_table(run: RunDetail) -> Table:
    table = Table(title="Results")
    for col in ("#", "question", "expected", "output", "status", "score", "tokens in/out", "ms"):
        table.add_column(col, overflow="fold")
    for r in run.results or []:
        table.add_row(
            str(r.position),
            safe(r.question),
            safe(r.expected_answer),
            safe(r.output if r.output is not None else (r.error or "")),
            safe(r.status),
            f"{r.score:.4f}" if r.score is not None else (r.score_status or "-"),
            f"{r.input_tokens or 0}/{r.output_tokens or 0}",
            f"{r.latency_ms:.0f}" if r.latency_ms is not None else "-",
        )
    return table


def render(run: RunDetail, fmt: str) -> None:
    if fmt == "json":
        print_json(run)
    elif fmt == "csv":
        typer.echo(results_csv(run), nl=False)
    else:
        out.print(summary_table(run))
        if run.batches:
            out.print(batches_table(run))
        if run.tracing and any(run.tracing.values()):
            out.print(tracing_table(run))
        if run.results is not None:
            out.print(results_table(run))


@app.command("show")
def show(
    run_id: int = typer.Argument(..., help="Evaluation run id."),
    results: bool = typer.Option(False, "--results", help="Include every item's outcome."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv (csv: the item results)."),
    org: str = typer.Option(None, "--org", help="Only within this organization (with --project)."),
    project: str = typer.Option(None, "--project", help="Only within this project (with --org)."),
) -> None:
    """Show a run: status, progress, score, cost; --results adds every item."""
    from lse.evals import runs
    from lse.tenancy import resolve_tenant
    from lse.tracing import tracing_status

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    settings = load_settings()
    tenant = resolve_tenant(settings, org, project) if org and project else None
    run = runs.get_run(settings, tenant, run_id, include_results=results or fmt == "csv")
    run.tracing = tracing_status(settings, run.id)
    render(run, fmt)
