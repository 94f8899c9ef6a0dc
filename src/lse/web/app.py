"""Adding the viewer to the API's app: its routers at `/`, its files at `/static`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from lse.settings import Settings
from lse.web.access import parse_access
from lse.web.deps import ViewerState
from lse.web.routes import archive, datasets, evaluations, login, monitoring
from lse.web.session import SessionSigner, session_secret

STATIC_PREFIX = "/static"


def mount_viewer(app: FastAPI, settings: Settings) -> None:
    """Mount after the API's routers, so `/api/v1/...` keeps its own answers.

    A bad LSE_WEB_ARCHIVE_ACCESS or an unusable secret stops here, at start-up."""
    app.state.viewer = ViewerState(
        settings=settings,
        access=parse_access(settings.web_archive_access),
        signer=SessionSigner(session_secret(settings)),
    )
    for router in (login.router, archive.router, monitoring.router, evaluations.router, datasets.router):
        app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(packages=[("lse.web", "static")]), name="static")
