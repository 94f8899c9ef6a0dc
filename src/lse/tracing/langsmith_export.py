"""One run to LangSmith: an experiment on the pushed dataset, one run per item, feedback.

An experiment is a project with `reference_dataset_id`; each item is a root run with
`reference_example_id` pointing at its example, inputs and outputs, lse's usage and
cost, and the cosine score as feedback. Run ids are UUIDv7s drawn once and stored:
LangSmith answers 409 to a run id it has, which the SDK takes as "already there", so
re-sending a run is safe. A feedback id it may store twice, so a feedback that might
have left before a crash is looked up before it is sent again. The experiment gets its
end time last, which is what marks it finished in LangSmith.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

import langsmith
from langsmith import utils as ls_utils
from lse.store.engine import unit_of_work
from lse.store.models.tracing import TracingExport, TracingExportItem
from lse.tracing.context import ExportContext
from lse.tracing.costs import item_cost
from lse.tracing.ids import ITEM_SCORE, TRACE_NAME, new_uuid7
from lse.tracing.langsmith_client import langsmith_client, translate
from lse.tracing.langsmith_datasets import push_dataset
from lse.tracing.outcome import ExportOutcome, tally_items
from lse.tracing.run_data import ItemView, RunView
from lse.tracing.targets import LangSmithTarget

SUMMARY_KEY = f"{ITEM_SCORE}_avg"


def _run_body(run: RunView, view: ItemView, run_id: str, project_id: str, example_id: str) -> dict[str, Any]:
    end = view.created_at or run.completed_at or run.created_at
    start = end - timedelta(milliseconds=view.latency_ms or 0)
    cost = item_cost(run.model, run.pricing_tier, view.input_tokens, view.cached_tokens, view.output_tokens)
    usage: dict[str, Any] = {
        "input_tokens": view.input_tokens,
        "output_tokens": view.output_tokens,
        "total_tokens": view.input_tokens + view.output_tokens,
        "input_token_details": {"cache_read": view.cached_tokens},
        "output_token_details": {"reasoning": view.reasoning_tokens},
    }
    if cost.cost is not None:
        usage.update(input_cost=cost.cost["input"] + cost.cost["input_cached_tokens"], output_cost=cost.cost["output"])
        usage["total_cost"] = cost.cost["total"]
    outputs: dict[str, Any] = {"answer": view.output, "usage_metadata": usage}
    metadata = {
        "lse_run_id": run.id,
        "lse_item_id": view.item.item_id,
        "position": view.item.position,
        "status": view.status,
        "response_id": view.response_id,
        "attempts": view.attempts,
        "pricing": run.pricing_tier,
        "lse_cost_usd": cost.total,
        "ls_model_name": run.model,
        "ls_provider": run.completion.get("provider"),
    }
    return {
        "id": run_id,
        "trace_id": run_id,
        "dotted_order": f"{start.strftime('%Y%m%dT%H%M%S%fZ')}{run_id}",
        "name": TRACE_NAME,
        "run_type": "llm",
        "inputs": {"question": view.item.question},
        "outputs": outputs,
        "start_time": start,
        "end_time": end,
        "error": (view.error or view.status) if view.status != "succeeded" else None,
        "reference_example_id": example_id,
        "session_id": project_id,
        "extra": {"metadata": {k: v for k, v in metadata.items() if v is not None}},
    }


def _feedback_exists(client: langsmith.Client, feedback_id: str) -> bool:
    try:
        client.read_feedback(feedback_id)
        return True
    except ls_utils.LangSmithNotFoundError:
        return False


def _send_feedback(ctx: ExportContext, client: langsmith.Client, row_id: int, once_sent: bool, **kwargs: Any) -> None:
    """Create a feedback record unless a previous attempt already did (then it is found)."""
    feedback_id = kwargs["feedback_id"]
    ctx.pacer.wait()
    if once_sent and _feedback_exists(client, feedback_id):
        return
    with unit_of_work(ctx.engine) as session:  # write-ahead: from here on it may be there
        row = session.get(TracingExportItem, row_id) if row_id else None
        if row is not None:
            row.sent_at = ctx.now()
    client.create_feedback(**kwargs)


def _experiment(ctx: ExportContext, client: langsmith.Client, run: RunView, export_id: int, dataset_id: str) -> str:
    with unit_of_work(ctx.engine) as session:
        export = session.get(TracingExport, export_id)
        assert export is not None and export.experiment_name
        name, known = export.experiment_name, export.experiment_id
        if export.summary_score_id is None:
            export.summary_score_id = new_uuid7()
    if known is not None:
        return known
    ctx.pacer.wait()
    project = client.create_project(
        name,
        description=f"lse evaluation run {run.id} ({run.run_mode}) of {run.organization}/{run.project}",
        metadata={k: v for k, v in run.metadata().items() if v is not None},
        reference_dataset_id=dataset_id,
        upsert=True,
        num_examples=len(run.dataset.items),
    )
    with unit_of_work(ctx.engine) as session:
        export = session.get(TracingExport, export_id)
        assert export is not None
        export.experiment_id = str(project.id)
    return str(project.id)


def export_run_to_langsmith(ctx: ExportContext, run: RunView, export_id: int) -> ExportOutcome:
    target = ctx.target
    assert isinstance(target, LangSmithTarget)
    outcome = ExportOutcome(target="langsmith", destination=target.destination, run_id=run.id)
    client = langsmith_client(target, timeout_s=ctx.settings.request_timeout_s)
    name, dataset_id, example_ids, _ = push_dataset(ctx.engine, client, ctx.pacer, target, run.dataset)
    ctx.renew(export_id)
    views = {v.item.item_id: v for v in run.items}
    try:
        project_id = _experiment(ctx, client, run, export_id, dataset_id)
        with unit_of_work(ctx.engine) as session:
            rows = [
                (r.id, r.item_id, r.remote_trace_id, r.remote_score_id, r.trace_confirmed, r.score_confirmed, r.sent_at)
                for r in session.scalars(
                    select(TracingExportItem).where(
                        TracingExportItem.export_id == export_id, TracingExportItem.state.in_(("pending", "sent"))
                    )
                )
            ]
        for n, (row_id, item_id, run_id, feedback_id, run_done, feedback_done, sent_at) in enumerate(rows, 1):
            view = views[item_id]
            if not run_done:
                ctx.pacer.wait()
                client.create_run(**_run_body(run, view, run_id, project_id, example_ids[item_id]))
                outcome.sent += 1
            if feedback_id and not feedback_done:
                _send_feedback(
                    ctx,
                    client,
                    row_id,
                    sent_at is not None,
                    run_id=run_id,
                    trace_id=run_id,
                    session_id=project_id,
                    key=ITEM_SCORE,
                    score=float(view.score or 0.0),
                    feedback_id=feedback_id,
                    comment="cosine similarity of the answer's and the expected answer's embeddings",
                )
            with unit_of_work(ctx.engine) as session:
                row = session.get(TracingExportItem, row_id)
                if row is not None:
                    row.trace_confirmed = row.score_confirmed = True
                    row.state, row.remote_copies, row.confirmed_at, row.last_error = "confirmed", 1, ctx.now(), None
            if n % 100 == 0:
                ctx.renew(export_id)
        summary_ok = _summary(ctx, client, run, export_id, project_id)
        ctx.pacer.wait()
        client.update_project(project_id, end_time=run.completed_at or ctx.now())
    except Exception as exc:
        raise translate(exc, f"exporting run {run.id}") from exc
    outcome.location = f"{target.endpoint} — dataset {name!r}, experiment (project) {project_id}"
    return _finish(ctx, export_id, summary_ok, outcome)


def _summary(ctx: ExportContext, client: langsmith.Client, run: RunView, export_id: int, project_id: str) -> bool:
    summary = run.summary
    with unit_of_work(ctx.engine) as session:
        export = session.get(TracingExport, export_id)
        assert export is not None
        feedback_id, sent = export.summary_score_id, export.first_sent_at is not None
        done = export.confirmed_at is not None
    if summary is None or feedback_id is None or done:
        return True
    ctx.pacer.wait()
    if not (sent and _feedback_exists(client, feedback_id)):
        with unit_of_work(ctx.engine) as session:
            export = session.get(TracingExport, export_id)
            assert export is not None
            export.first_sent_at = export.first_sent_at or ctx.now()
        client.create_feedback(
            run_id=None,
            project_id=project_id,
            key=SUMMARY_KEY,
            score=float(summary["avg"]),
            feedback_id=feedback_id,
            comment=f"average over {summary.get('total_pairs')} scored items, std {summary.get('std')}",
        )
    return True


def _finish(ctx: ExportContext, export_id: int, summary_ok: bool, outcome: ExportOutcome) -> ExportOutcome:
    with unit_of_work(ctx.engine) as session:
        export = session.get(TracingExport, export_id)
        assert export is not None
        tally_items(session, export_id, outcome)
        if outcome.pending == 0 and outcome.failed == 0 and summary_ok:
            export.state, export.confirmed_at, export.next_attempt_at, export.last_error = (
                "confirmed",
                ctx.now(),
                None,
                None,
            )
        outcome.state = export.state
    return outcome
