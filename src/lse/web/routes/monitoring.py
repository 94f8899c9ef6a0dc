"""Monitoring: the figures and alerts of `lse archive status`, for the key's projects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from lse.monitoring.status import StatusReport, build_status
from lse.settings import Settings
from lse.web.access import ALL
from lse.web.deps import StateDep, ViewerDep
from lse.web.rendering import render
from lse.web.route import ViewerRoute

router = APIRouter(route_class=ViewerRoute, include_in_schema=False)


def status_for(settings: Settings, projects: frozenset[str], days: int) -> list[StatusReport]:
    """One report per granted project (or one for every project when all are granted)."""
    if ALL in projects:
        return [build_status(settings, project=None, days=days)]
    return [build_status(settings, project=p, days=days) for p in sorted(projects)]


@router.get("/monitoring")
def monitoring(state: StateDep, viewer: ViewerDep, days: Annotated[int, Query(ge=1, le=90)] = 7):
    granted = state.access.projects_for(viewer.tenant)
    reports = status_for(state.settings, granted, days) if granted else []
    html = render("monitoring.html", viewer=viewer, csrf=viewer.csrf, nav="monitoring", reports=reports, days=days)
    return HTMLResponse(html)
