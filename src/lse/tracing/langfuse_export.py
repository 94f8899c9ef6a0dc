"""One run to Langfuse: dataset and items, one trace per item, scores, run summary.

The order is what makes it safe to repeat:
1. upsert the dataset and its items (idempotent by name and id);
2. list what the run's experiment already holds and mark it confirmed;
3. for each trace still missing, record "sent" in the database first, then send it —
   a trace recorded as sent is sent again only if it is still missing after
   `LSE_TRACING_RESEND_AFTER_S` (Langfuse's read path may lag ingestion);
4. send every unconfirmed score with its stored id and timestamp (Langfuse overwrites
   those instead of duplicating them), and the run summary;
5. flush, list again, and confirm what arrived.
A killed pass leaves rows "sent" or "pending"; the next pass starts at step 2.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from langfuse import Langfuse
from sqlalchemy import select, update

from lse.store.engine import unit_of_work
from lse.store.models.tracing import TracingExport, TracingExportItem
from lse.tracing.context import ExportContext
from lse.tracing.langfuse_client import langfuse_client, translate
from lse.tracing.langfuse_datasets import sync_dataset
from lse.tracing.langfuse_remote import RemoteRun, list_remote
from lse.tracing.langfuse_spans import emit_item_score, emit_summary_score, emit_trace
from lse.tracing.outbox import backoff_s
from lse.tracing.outcome import ExportOutcome, tally_items
from lse.tracing.run_data import RunView, utc
from lse.tracing.targets import LangfuseTarget

log = logging.getLogger(__name__)

CHUNK = 100
LISTING_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class _Row:
    id: int
    item_id: int
    trace_id: str
    score_id: str | None
    state: str
    trace_confirmed: bool
    score_confirmed: bool
    sent_at: datetime | None


def _rows(ctx: ExportContext, export_id: int) -> list[_Row]:
    with unit_of_work(ctx.engine) as session:
        return [
            _Row(
                r.id,
                r.item_id,
                r.remote_trace_id,
                r.remote_score_id,
                r.state,
                r.trace_confirmed,
                r.score_confirmed,
                utc(r.sent_at),
            )
            for r in session.scalars(
                select(TracingExportItem)
                .where(TracingExportItem.export_id == export_id)
                .order_by(TracingExportItem.item_id)
            )
        ]


def _reconcile(ctx: ExportContext, export_id: int, remote: RemoteRun) -> int:
    """Mark what the target holds; returns how many items it holds more than once."""
    now = ctx.now()
    duplicates = 0
    with unit_of_work(ctx.engine) as session:
        for row in session.scalars(select(TracingExportItem).where(TracingExportItem.export_id == export_id)):
            copies = remote.copies.get(row.remote_trace_id, 0)
            row.remote_copies = max(copies, row.remote_copies if row.trace_confirmed else 0)
            duplicates += copies > 1
            if copies and not row.trace_confirmed:
                row.trace_confirmed = True
            if row.remote_score_id and row.remote_score_id in remote.score_ids:
                row.score_confirmed = True
            if row.trace_confirmed and row.score_confirmed and row.state != "confirmed":
                row.state, row.confirmed_at, row.last_error = "confirmed", now, None
    return duplicates


def _write_ahead(ctx: ExportContext, export_id: int, row_ids: list[int]) -> None:
    """Record the traces as sent before they leave: after a crash they are "maybe there"."""
    now = ctx.now()
    with unit_of_work(ctx.engine) as session:
        session.execute(
            update(TracingExportItem)
            .where(TracingExportItem.id.in_(row_ids))
            .values(state="sent", sent_at=now, attempts=TracingExportItem.attempts + 1)
        )
        export = session.get(TracingExport, export_id)
        if export is not None and export.first_sent_at is None:
            export.first_sent_at = now


def _finish(ctx: ExportContext, export_id: int, summary_ok: bool, outcome: ExportOutcome) -> ExportOutcome:
    now = ctx.now()
    with unit_of_work(ctx.engine) as session:
        export = session.get(TracingExport, export_id)
        assert export is not None
        tally_items(session, export_id, outcome)
        if outcome.pending == 0 and outcome.failed == 0 and summary_ok:
            export.state, export.confirmed_at, export.next_attempt_at, export.last_error = "confirmed", now, None, None
        else:
            # Sent but not yet seen: look again later (each look counts as an attempt).
            export.state = "sent" if export.first_sent_at is not None else "pending"
            export.attempts += 1
            if export.attempts >= ctx.settings.tracing_max_attempts:
                export.state = "failed"
                export.last_error = "still not visible in Langfuse after the last attempt"
                session.execute(
                    update(TracingExportItem)
                    .where(TracingExportItem.export_id == export_id, TracingExportItem.state != "confirmed")
                    .values(state="failed", last_error=export.last_error)
                )
                outcome.failed += outcome.pending
                outcome.pending = 0
            else:
                export.next_attempt_at = now + timedelta(seconds=backoff_s(export.attempts))
        outcome.state = export.state
    return outcome


def _where(client: Langfuse, target: LangfuseTarget, dataset_id: str, dataset: str, experiment: str) -> str:
    """The dataset's page in the Langfuse UI (its URL needs the project id: one read)."""
    try:
        projects = client.api.projects.get()
        project_id = projects.data[0].id if projects.data else None
    except Exception as exc:  # noqa: BLE001 -- only the link is lost; the export itself is done
        log.warning("could not read the Langfuse project id for a link: %s", exc)
        project_id = None
    page = f"{target.host}/project/{project_id}/datasets/{dataset_id}" if project_id else target.host
    return f"{page} (dataset {dataset!r}, experiment {experiment!r})"


def export_run_to_langfuse(ctx: ExportContext, run: RunView, export_id: int) -> ExportOutcome:
    target = ctx.target
    assert isinstance(target, LangfuseTarget)
    outcome = ExportOutcome(target="langfuse", destination=target.destination, run_id=run.id)
    client = langfuse_client(target, timeout_s=ctx.settings.request_timeout_s)
    dataset_name, dataset_id, item_ids, _ = sync_dataset(ctx.engine, client, ctx.pacer, target, run.dataset)
    ctx.renew(export_id)
    with unit_of_work(ctx.engine) as session:
        export = session.get(TracingExport, export_id)
        assert export is not None and export.experiment_id and export.experiment_name
        experiment_id, experiment_name = export.experiment_id, export.experiment_name
        summary_id, stamp = export.summary_score_id, export.score_timestamp
    stamp = stamp or run.completed_at or ctx.now()
    since = (run.completed_at or run.created_at) - LISTING_MARGIN
    summary_id = summary_id if run.summary is not None else None

    remote = list_remote(client, ctx.pacer, experiment_id, since, summary_id)
    _reconcile(ctx, export_id, remote)
    views = {v.item.item_id: v for v in run.items}
    rows = [r for r in _rows(ctx, export_id) if r.item_id in views and r.state != "failed"]
    resend_after = timedelta(seconds=ctx.settings.tracing_resend_after_s)
    now = ctx.now()
    due = [r for r in rows if not r.trace_confirmed and (r.sent_at is None or now - r.sent_at >= resend_after)]
    try:
        for start in range(0, len(due), CHUNK):
            chunk = due[start : start + CHUNK]
            _write_ahead(ctx, export_id, [r.id for r in chunk])
            for row in chunk:
                emit_trace(
                    client,
                    run,
                    views[row.item_id],
                    trace_id=row.trace_id,
                    experiment_id=experiment_id,
                    experiment_name=experiment_name,
                    dataset_id=dataset_id,
                    dataset_item_id=item_ids[row.item_id],
                )
            client.flush()
            outcome.sent += len(chunk)
            ctx.renew(export_id)
        due_ids = {r.id for r in due}
        for row in rows:
            sent_once = row.trace_confirmed or row.sent_at is not None or row.id in due_ids
            if row.score_id and not row.score_confirmed and sent_once:
                emit_item_score(
                    client, views[row.item_id], trace_id=row.trace_id, score_id=row.score_id, timestamp=stamp
                )
        if summary_id is not None and not remote.summary_present:
            emit_summary_score(client, run, experiment_id=experiment_id, score_id=summary_id, timestamp=stamp)
        client.flush()
    except Exception as exc:
        raise translate(exc, f"sending run {run.id}") from exc

    remote = list_remote(client, ctx.pacer, experiment_id, since, summary_id)
    outcome.duplicates = _reconcile(ctx, export_id, remote)
    outcome.location = _where(client, target, dataset_id, dataset_name, experiment_name)
    return _finish(ctx, export_id, summary_id is None or remote.summary_present, outcome)
