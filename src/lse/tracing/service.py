"""Exports as a service: on demand (`export_run`), after a run completes
(`after_run_completed`) and periodically (`export_pending`).

Tracing is never on a run's critical path: a run is completed when its rows are, and
nothing here changes a run. Background entry points never raise for a target's failure —
it is recorded on the export (attempts, last error, next attempt) and retried with
backoff until `LSE_TRACING_MAX_ATTEMPTS`; an on-demand export reports it to its caller.
One exporter at a time holds a run's export (a lease), so two workers never both send.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from lse.errors import ConfigError, LseError, UpstreamRejected, ValidationFailed
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationRun, utcnow
from lse.store.models.tracing import TracingExport
from lse.tracing import outbox
from lse.tracing.context import ExportContext
from lse.tracing.langfuse_export import export_run_to_langfuse
from lse.tracing.langsmith_export import export_run_to_langsmith
from lse.tracing.outcome import ExportOutcome
from lse.tracing.pacing import Pacer
from lse.tracing.run_data import RunView, load_run
from lse.tracing.targets import Target, resolve_targets

log = logging.getLogger(__name__)

EXPORTERS: dict[str, Callable[[ExportContext, RunView, int], ExportOutcome]] = {
    "langfuse": export_run_to_langfuse,
    "langsmith": export_run_to_langsmith,
}
# Runs completed this recently are queued by the background pass even if the hook that
# runs after completion never ran (a worker died in between); older ones on demand.
RECENT = timedelta(hours=24)


def owner_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _export_one(
    settings: Settings, target: Target, run: RunView, *, reopen: bool, now: Callable[[], datetime], owner: str
) -> ExportOutcome:
    engine = get_engine(settings)
    with unit_of_work(engine) as session:
        export_id = outbox.ensure_run_export(session, run, target).id
    if reopen:
        outbox.reopen(engine, export_id)
    if not outbox.claim(engine, export_id, owner, settings.tracing_lease_s, now()):
        return ExportOutcome(
            target=target.name,
            destination=target.destination,
            run_id=run.id,
            skipped="another exporter is exporting this run right now",
        )
    ctx = ExportContext(settings, engine, target, Pacer(settings.tracing_requests_per_minute), owner, now)
    try:
        return EXPORTERS[target.name](ctx, run, export_id)
    except Exception as exc:
        message = str(exc) if isinstance(exc, LseError) else f"{type(exc).__name__}: {exc}"
        permanent = isinstance(exc, (UpstreamRejected, ConfigError))
        state = outbox.record_failure(
            engine, export_id, message, permanent=permanent, max_attempts=settings.tracing_max_attempts, now=now()
        )
        if not isinstance(exc, LseError):
            raise
        return ExportOutcome(
            target=target.name, destination=target.destination, run_id=run.id, state=state, error=message
        )
    finally:
        outbox.release(engine, export_id, owner)


def _completed_run(settings: Settings, run_id: int) -> RunView:
    with unit_of_work(get_engine(settings)) as session:
        run = load_run(session, run_id)
    if run.status != "completed":
        raise ValidationFailed(
            f"evaluation run {run_id} is {run.status}; only completed runs are exported", code="run_not_completed"
        )
    return run


def export_run(
    settings: Settings,
    run_id: int,
    *,
    target: str | None = None,
    now: Callable[[], datetime] = utcnow,
    owner: str | None = None,
) -> list[ExportOutcome]:
    """Export (or repair) one completed run now: every configured target, or the one named.

    Failed objects get a fresh set of attempts. Naming a target that is not configured is
    a ConfigError saying which settings to set.
    """
    run = _completed_run(settings, run_id)
    targets = resolve_targets(settings, run.organization_id, run.project_id, only=target, explicit=target is not None)
    chosen = targets.configured()
    if target is not None and not chosen:
        needs = "LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (and LANGFUSE_HOST)"
        if target == "langsmith":
            needs = "LANGSMITH_API_KEY (and LANGSMITH_ENDPOINT)"
        raise ConfigError(f"{target} is not configured: set {needs}", code="tracing_not_configured")
    owner = owner or owner_id()
    return [_export_one(settings, t, run, reopen=True, now=now, owner=owner) for t in chosen]


def after_run_completed(settings: Settings, run_id: int) -> list[ExportOutcome]:
    """The hook an execution backend calls when a run completes: export it to the targets
    `LSE_TRACING_TARGETS` enables. Never raises: a failure is recorded and retried later."""
    try:
        run = _completed_run(settings, run_id)
        targets = resolve_targets(settings, run.organization_id, run.project_id).configured()
        owner = owner_id()
        return [_export_one(settings, t, run, reopen=False, now=utcnow, owner=owner) for t in targets]
    except Exception:
        log.exception("exporting evaluation run %s failed; the background pass will retry it", run_id)
        return []


def _queue_recent(settings: Settings, now: datetime) -> None:
    engine = get_engine(settings)
    with unit_of_work(engine) as session:
        runs = list(
            session.execute(
                select(EvaluationRun.id, EvaluationRun.organization_id, EvaluationRun.project_id).where(
                    EvaluationRun.status == "completed", EvaluationRun.completed_at >= now - RECENT
                )
            )
        )
        have = set(session.execute(select(TracingExport.run_id, TracingExport.destination)).tuples())
    for run_id, org_id, project_id in runs:
        targets = resolve_targets(settings, org_id, project_id).configured()
        missing = [t for t in targets if (run_id, t.destination) not in have]
        if missing:
            with unit_of_work(engine) as session:
                run = load_run(session, run_id)
                for t in missing:
                    outbox.ensure_run_export(session, run, t)


def export_pending(settings: Settings, *, now: Callable[[], datetime] = utcnow, limit: int = 50) -> list[ExportOutcome]:
    """One background pass: queue recently completed runs, then work through every export
    that is due. Never raises for a target's failure; returns what each export did."""
    _queue_recent(settings, now())
    with unit_of_work(get_engine(settings)) as session:
        due = outbox.due_exports(session, now(), limit=limit)
    owner = owner_id()
    outcomes: list[ExportOutcome] = []
    for _export_id, run_id, destination in due:
        try:
            run = _completed_run(settings, run_id)
            targets = resolve_targets(settings, run.organization_id, run.project_id).configured()
            target = next((t for t in targets if t.destination == destination), None)
            if target is None:  # configuration changed: that destination is no longer ours to write
                continue
            outcomes.append(_export_one(settings, target, run, reopen=False, now=now, owner=owner))
        except Exception:
            log.exception("background export of run %s to %s failed", run_id, destination)
    return outcomes
