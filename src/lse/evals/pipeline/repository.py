"""An evaluation run's reads and writes: claim it, load its plan, persist results as they arrive.

Claiming is one compare-and-set UPDATE (pending → processing, or processing with a stale
heartbeat → processing), so two workers can never both run a run. A stage's completion
is an `evaluation_jobs` row, written only after the stage's unit is in object storage.
One repository serves every run mode; `mode` picks the runs it claims and recovers.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, and_, insert, literal, or_, select, update

from lse.datasets.service import dataset_items
from lse.errors import NotFoundError, RowRefused
from lse.evals.liveness import HEARTBEAT_S, check_stale_after
from lse.evals.pipeline.records import ItemOutcome, ItemScore, PlanItem, RunPlan
from lse.evals.pipeline.status import ItemStatus, RunStatus, ScoreStatus, StageJob
from lse.providers.usage import Usage
from lse.store.engine import unit_of_work
from lse.store.errors import integrity_refusal
from lse.store.models.evaluation import (
    ConfigVersion,
    EvaluationDatasetItem,
    EvaluationItemResult,
    EvaluationJob,
    EvaluationRun,
    utcnow,
)

IN_CHUNK = 900  # ids per IN (...) list: under SQLite's bound-parameter limit


class RunRepository:
    def __init__(self, engine: Engine, *, mode: str = "fast", heartbeat_s: float = HEARTBEAT_S):
        self.engine = engine
        self.mode = mode
        self.heartbeat_s = heartbeat_s  # a stale-after under three of these is refused

    # --- claiming & liveness -------------------------------------------------------------
    def claim(self, run_id: int, *, stale_after_s: float) -> bool:
        """Take the run if it is pending, or processing with a heartbeat older than `stale_after_s`."""
        check_stale_after(stale_after_s, self.heartbeat_s)
        now = utcnow()
        stale_before = now - timedelta(seconds=stale_after_s)
        with unit_of_work(self.engine) as s:
            result = s.execute(
                update(EvaluationRun)
                .where(
                    EvaluationRun.id == run_id,
                    EvaluationRun.run_mode == self.mode,
                    or_(
                        EvaluationRun.status == RunStatus.PENDING,
                        and_(
                            EvaluationRun.status == RunStatus.PROCESSING,
                            or_(EvaluationRun.heartbeat_at.is_(None), EvaluationRun.heartbeat_at < stale_before),
                        ),
                    ),
                )
                .values(status=RunStatus.PROCESSING, heartbeat_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:  # an UPDATE's CursorResult
                return False
            run = s.get(EvaluationRun, run_id)
            if run is not None and run.started_at is None:
                run.started_at = now
            return True

    def heartbeat(self, run_id: int) -> bool:
        """Refresh the run's heartbeat; True if a user has asked to cancel it (stop between calls)."""
        with unit_of_work(self.engine) as s:
            s.execute(
                update(EvaluationRun)
                .where(EvaluationRun.id == run_id, EvaluationRun.status == RunStatus.PROCESSING)
                .values(heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return s.scalar(select(EvaluationRun.cancel_requested_at).where(EvaluationRun.id == run_id)) is not None

    def release(self, run_id: int) -> None:
        """Let go of a claim taken for one step (batch runs): the next caller may claim at once."""
        with unit_of_work(self.engine) as s:
            s.execute(
                update(EvaluationRun)
                .where(EvaluationRun.id == run_id, EvaluationRun.status == RunStatus.PROCESSING)
                .values(heartbeat_at=None)
                .execution_options(synchronize_session=False)
            )

    def cancel_requested(self, run_id: int) -> bool:
        with unit_of_work(self.engine) as s:
            return s.scalar(select(EvaluationRun.cancel_requested_at).where(EvaluationRun.id == run_id)) is not None

    def resumable_runs(self, *, stale_after_s: float, include_pending_older_than_s: float | None = None) -> list[int]:
        """Runs of this mode left `processing` by a dead worker (and, optionally, long-pending ones)."""
        check_stale_after(stale_after_s, self.heartbeat_s)
        now = utcnow()
        cond = and_(
            EvaluationRun.status == RunStatus.PROCESSING,
            or_(
                EvaluationRun.heartbeat_at.is_(None),
                EvaluationRun.heartbeat_at < now - timedelta(seconds=stale_after_s),
            ),
        )
        if include_pending_older_than_s is not None:  # pending: created, or last re-queued, that long ago
            cond = or_(
                cond,
                and_(
                    EvaluationRun.status == RunStatus.PENDING,
                    EvaluationRun.updated_at < now - timedelta(seconds=include_pending_older_than_s),
                ),
            )
        with unit_of_work(self.engine) as s:
            return list(
                s.scalars(
                    select(EvaluationRun.id).where(EvaluationRun.run_mode == self.mode, cond).order_by(EvaluationRun.id)
                )
            )

    def processing_runs(self) -> list[int]:
        """Runs of this mode some worker holds now (live or not: see `heartbeat_at`)."""
        with unit_of_work(self.engine) as s:
            query = select(EvaluationRun.id).where(
                EvaluationRun.run_mode == self.mode, EvaluationRun.status == RunStatus.PROCESSING
            )
            return list(s.scalars(query.order_by(EvaluationRun.id)))

    def mark_requeued(self, run_ids: list[int]) -> None:
        """Restart the pending clock of runs just queued again, so the next sweep leaves them be."""
        if not run_ids:
            return
        with unit_of_work(self.engine) as s:
            s.execute(
                update(EvaluationRun)
                .where(EvaluationRun.id.in_(run_ids), EvaluationRun.status == RunStatus.PENDING)
                .values(updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    # --- plan ----------------------------------------------------------------------------
    def load_plan(self, run_id: int) -> RunPlan:
        with unit_of_work(self.engine) as s:
            run = s.get(EvaluationRun, run_id)
            if run is None:
                raise NotFoundError(f"evaluation run {run_id} not found", code="run_not_found")
            version = s.scalar(
                select(ConfigVersion).where(
                    ConfigVersion.config_id == run.config_id, ConfigVersion.version == run.config_version
                )
            )
            if version is None:
                raise NotFoundError(
                    f"config {run.config_id} version {run.config_version} of run {run_id} no longer exists",
                    code="config_version_not_found",
                )
            blob = version.config_blob or {}
            inner = blob.get("completion")
            completion: dict = inner if isinstance(inner, dict) else blob
            items = [
                PlanItem(r.id, r.position, r.question or "", r.answer or "") for r in dataset_items(s, run.dataset_id)
            ]
            return RunPlan(run_id, run.dataset_id, run.run_mode, dict(completion), items)

    # --- item results --------------------------------------------------------------------
    def item_records(self, run_id: int) -> dict[int, ItemOutcome]:
        with unit_of_work(self.engine) as s:
            rows = s.scalars(select(EvaluationItemResult).where(EvaluationItemResult.run_id == run_id)).all()
            return {
                r.item_id: ItemOutcome(
                    item_id=r.item_id,
                    status=ItemStatus(r.status),
                    output=r.output,
                    error=r.error,
                    error_code=r.error_code,
                    usage=Usage(
                        input_tokens=r.input_tokens or 0,
                        cached_tokens=r.cached_tokens or 0,
                        output_tokens=r.output_tokens or 0,
                        reasoning_tokens=r.reasoning_tokens or 0,
                    ),
                    latency_ms=r.latency_ms,
                    attempts=r.attempts or 0,
                    response_id=r.response_id,
                    score=r.score,
                    score_status=ScoreStatus(r.score_status or ScoreStatus.NOT_SCORED),
                )
                for r in rows
            }

    def save_items(self, run_id: int, outcomes: list[ItemOutcome]) -> None:
        """Insert item results (one transaction, one multi-row INSERT); an item already stored is
        left as it is."""
        if not outcomes:
            return
        with unit_of_work(self.engine) as s:
            existing: set[int] = set()
            ids = [o.item_id for o in outcomes]
            for start in range(0, len(ids), IN_CHUNK):
                existing.update(
                    s.scalars(
                        select(EvaluationItemResult.item_id).where(
                            EvaluationItemResult.run_id == run_id,
                            EvaluationItemResult.item_id.in_(ids[start : start + IN_CHUNK]),
                        )
                    )
                )
            now = utcnow()
            rows = []
            for o in outcomes:
                if o.item_id in existing:
                    continue
                existing.add(o.item_id)
                rows.append(
                    {
                        "run_id": run_id,
                        "item_id": o.item_id,
                        "status": o.status.value,
                        "output": o.output,
                        "error": o.error,
                        "error_code": o.error_code,
                        "input_tokens": o.usage.input_tokens,
                        "cached_tokens": o.usage.cached_tokens,
                        "output_tokens": o.usage.output_tokens,
                        "reasoning_tokens": o.usage.reasoning_tokens,
                        "latency_ms": o.latency_ms,
                        "attempts": o.attempts,
                        "response_id": o.response_id,
                        "score": None,
                        "score_status": ScoreStatus.NOT_SCORED.value,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            if rows:
                s.execute(insert(EvaluationItemResult), rows)
            new_ok = sum(1 for r in rows if r["status"] == ItemStatus.SUCCEEDED.value)
            run = s.get(EvaluationRun, run_id)
            if run is not None:
                run.heartbeat_at = now
                run.items_succeeded = (run.items_succeeded or 0) + new_ok
                run.items_failed = (run.items_failed or 0) + len(rows) - new_ok

    def item_ids_with_results(self, run_id: int) -> set[int]:
        with unit_of_work(self.engine) as s:
            return set(s.scalars(select(EvaluationItemResult.item_id).where(EvaluationItemResult.run_id == run_id)))

    def fail_unfinished(self, run_id: int, error: str, code: str) -> int:
        """Every item of the run's dataset without a result gets a failed one saying why (one
        INSERT ... SELECT, however large the dataset); the number of items it ended."""
        now = utcnow()
        with unit_of_work(self.engine) as s:
            run = s.get(EvaluationRun, run_id)
            if run is None:
                return 0
            has_result = select(EvaluationItemResult.item_id).where(EvaluationItemResult.run_id == run_id)
            todo = select(
                literal(run_id),
                EvaluationDatasetItem.id,
                literal(ItemStatus.FAILED.value),
                literal(error),
                literal(code[:64]),
                literal(0),
                literal(0),
                literal(0),
                literal(0),
                literal(0),
                literal(ScoreStatus.NOT_SCORED.value),
                literal(now, type_=EvaluationItemResult.created_at.type),
                literal(now, type_=EvaluationItemResult.updated_at.type),
            ).where(EvaluationDatasetItem.dataset_id == run.dataset_id, EvaluationDatasetItem.id.not_in(has_result))
            columns = [
                "run_id",
                "item_id",
                "status",
                "error",
                "error_code",
                "input_tokens",
                "cached_tokens",
                "output_tokens",
                "reasoning_tokens",
                "attempts",
                "score_status",
                "created_at",
                "updated_at",
            ]
            result = s.execute(insert(EvaluationItemResult).from_select(columns, todo))
            added = max(0, int(getattr(result, "rowcount", 0) or 0))
            run.items_failed = (run.items_failed or 0) + added
            return added

    def save_scores(self, run_id: int, scores: dict[int, ItemScore]) -> None:
        """Every item's score (or why it has none) in one transaction (one UPDATE by primary key
        per row, sent as one batch)."""
        with unit_of_work(self.engine) as s:
            rows = s.execute(
                select(
                    EvaluationItemResult.id,
                    EvaluationItemResult.item_id,
                    EvaluationItemResult.status,
                    EvaluationItemResult.error,
                ).where(EvaluationItemResult.run_id == run_id)
            ).all()
            changes = []
            for row_id, item_id, status, error in rows:
                score = scores.get(item_id)
                if score is None:
                    continue
                change = {"id": row_id, "score": score.score, "score_status": score.status.value, "error": error}
                if (
                    score.status is ScoreStatus.NOT_SCORED
                    and score.reason
                    and status == ItemStatus.SUCCEEDED
                    and not error
                ):
                    change["error"] = score.reason
                changes.append(change)
            if changes:
                s.execute(update(EvaluationItemResult), changes)

    # --- stage jobs ----------------------------------------------------------------------
    def job(self, run_id: int, job_type: StageJob) -> EvaluationJob | None:
        with unit_of_work(self.engine) as s:
            return s.scalar(
                select(EvaluationJob).where(EvaluationJob.run_id == run_id, EvaluationJob.job_type == job_type)
            )

    def record_job(
        self,
        run_id: int,
        job_type: StageJob,
        *,
        object_url: str,
        usage: dict,
        cost: dict,
        status: RunStatus = RunStatus.COMPLETED,
    ) -> None:
        """The stage is done: written once; a second writer (a duplicate worker) is ignored."""
        try:
            with unit_of_work(self.engine) as s:
                s.add(
                    EvaluationJob(
                        run_id=run_id,
                        job_type=job_type,
                        status=status,
                        object_url=object_url,
                        usage=usage,
                        cost=cost,
                    )
                )
        except RowRefused as exc:
            if not integrity_refusal(exc):
                raise

    # --- the run's end -------------------------------------------------------------------
    def finish(
        self,
        run_id: int,
        *,
        status: RunStatus,
        succeeded: int,
        failed: int,
        score: dict | None,
        cost: dict | None,
        error_message: str | None,
    ) -> None:
        with unit_of_work(self.engine) as s:
            run = s.get(EvaluationRun, run_id)
            if run is None:
                return
            now = utcnow()
            run.status = status
            run.items_succeeded = succeeded
            run.items_failed = failed
            run.score = score
            run.cost = cost
            run.error_message = error_message
            run.completed_at = now
            run.heartbeat_at = now
