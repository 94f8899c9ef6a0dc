"""The Celery backend: Redis broker, queue `evaluations`, late acks so a lost worker's job returns.

`create_celery_app(settings)` builds the app from settings (no import-time global); the
module attribute `app` exists only for `celery -A lse.worker.celery_app worker`, and is
built from the environment on first access. `lse worker` is the supported way to run it.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from lse.errors import ConfigError
from lse.settings import Settings, load_settings

TASK_RUN_FAST = "lse.evaluations.run_fast"
TASK_ADVANCE_BATCH = "lse.evaluations.advance_batch"

_apps: dict[str, Celery] = {}


def queue_name(settings: Settings) -> str:
    return settings.celery_queue


def create_celery_app(settings: Settings) -> Celery:
    url = settings.celery_broker_url
    if not url:
        raise ConfigError("LSE_CELERY_BROKER_URL is not set: point it at Redis (redis://host:6379/0)")
    cached = _apps.get(url)
    if cached is not None:
        return cached
    app = Celery("lse", broker=url, include=["lse.worker.tasks"])
    app.conf.update(
        task_default_queue=queue_name(settings),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        task_serializer="json",
        accept_content=["json"],
    )
    _apps[url] = app
    return app


def __getattr__(name: str) -> Any:  # `celery -A lse.worker.celery_app worker`
    if name in ("app", "celery"):
        return create_celery_app(load_settings())
    raise AttributeError(name)
