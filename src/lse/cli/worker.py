"""`lse worker`: a Celery worker consuming the `evaluations` queue (needs LSE_CELERY_BROKER_URL)."""

from __future__ import annotations

import socket

import typer

from lse.evals.liveness import MIN_STALE_AFTER_S, STALE_AFTER_S, check_stale_after
from lse.settings import load_settings


def worker(
    concurrency: int = typer.Option(2, "--concurrency", "-c", min=1, help="Runs executed at once."),
    pool: str = typer.Option("threads", "--pool", help="Celery pool: threads, prefork or solo."),
    queue: str | None = typer.Option(
        None, "--queue", "-Q", help="Queue to consume (default LSE_CELERY_QUEUE, evaluations)."
    ),
    loglevel: str = typer.Option("WARNING", "--loglevel", help="Celery log level."),
    recover: bool = typer.Option(
        True,
        "--recover/--no-recover",
        help="Re-queue runs left behind (dead worker, lost message) on start and every --stale-after seconds.",
    ),
    poll_batches: bool = typer.Option(
        True,
        "--poll-batches/--no-poll-batches",
        help="Step batch runs (submit, poll, collect, score) for as long as the worker lives.",
    ),
    stale_after: float | None = typer.Option(
        None,
        "--stale-after",
        min=MIN_STALE_AFTER_S,
        help="Seconds without a heartbeat after which a processing run counts as abandoned "
        f"(default LSE_EVAL_STALE_AFTER_S, {STALE_AFTER_S:g}; at least three heartbeats).",
    ),
) -> None:
    """Run a Celery worker for evaluation jobs; it re-queues runs left behind by dead workers
    on start and then every --stale-after seconds, and polls batch runs."""
    from lse.store.engine import get_engine
    from lse.worker.celery_app import create_celery_app, queue_name
    from lse.worker.recovery import requeue_left_behind, watch_left_behind

    settings = load_settings()
    # checked here, not in the worker_ready signal where a refusal would only be logged
    stale = check_stale_after(
        stale_after if stale_after is not None else settings.eval_stale_after_s, settings.eval_heartbeat_s
    )
    get_engine(settings)  # a bad URL or a database needing `lse db upgrade` stops here, not in every task
    app = create_celery_app(settings)
    q = queue or queue_name(settings)
    if recover or poll_batches:
        from celery.signals import worker_ready

        @worker_ready.connect(weak=False)
        def _recover(**_: object) -> None:
            if recover:
                requeue_left_behind(settings, queue=q, stale_after_s=stale)
                watch_left_behind(settings, queue=q, stale_after_s=stale)
            if poll_batches:
                from lse.worker.batch_poller import BatchPoller

                BatchPoller(settings, name="lse-worker-batch-poller").start()

    from celery.signals import worker_ready

    from lse.tracing import TracingWatcher

    @worker_ready.connect(weak=False)
    def _export(**_: object) -> None:  # exports of completed runs to Langfuse/LangSmith, paced and retried
        TracingWatcher(settings).start()

    app.worker_main(
        [
            "worker",
            "-Q",
            q,
            "-c",
            str(concurrency),
            "--pool",
            pool,
            "--loglevel",
            loglevel,
            "-n",
            f"lse-{q}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
