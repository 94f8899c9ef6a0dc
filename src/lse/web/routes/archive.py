"""Archive pages: a project's date range, its runs (filterable), one run with its trace."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from lse.errors import NotFoundError, UsageError
from lse.store import archive_views as av
from lse.store.engine import get_engine
from lse.web.deps import StateDep, ViewerDep
from lse.web.rendering import render
from lse.web.route import ViewerRoute
from lse.web.views.archive import archive_summary, parse_day, resolve_range
from lse.web.views.trace import trace_tree

router = APIRouter(route_class=ViewerRoute, include_in_schema=False)

Text = Annotated[str | None, Query(max_length=255)]


def _visible(state: StateDep, viewer: ViewerDep) -> list[str]:
    return state.access.visible(viewer.tenant, av.archive_projects(get_engine(state.settings)))


def _project(visible: list[str], asked: str | None) -> str:
    if asked is None or not asked.strip():
        return visible[0]
    if asked not in visible:  # the same answer whether it exists elsewhere or not
        raise NotFoundError(f"no archived project {asked!r} for this key")
    return asked


def _page(name: str, state: StateDep, viewer: ViewerDep, **context) -> HTMLResponse:
    return HTMLResponse(render(name, viewer=viewer, csrf=viewer.csrf, nav="archive", **context))


def _no_archive(state: StateDep, viewer: ViewerDep) -> HTMLResponse:
    return _page("archive_none.html", state, viewer)


@router.get("/archive")
def archive(state: StateDep, viewer: ViewerDep, project: Text = None, start: Text = None, end: Text = None):
    visible = _visible(state, viewer)
    if not visible:
        return _no_archive(state, viewer)
    name = _project(visible, project)
    engine = get_engine(state.settings)
    first, last = resolve_range(engine, name, parse_day(start, "start"), parse_day(end, "end"))
    summary = archive_summary(engine, name, first, last)
    return _page("archive.html", state, viewer, projects=visible, summary=summary)


def _cursor(after: str | None) -> tuple[date, int] | None:
    if not after:
        return None
    day, _, last_id = after.partition(".")
    try:
        return date.fromisoformat(day), int(last_id)
    except ValueError as exc:
        raise UsageError(f"after must look like 2026-11-20.123, got {after!r}") from exc


@router.get("/archive/runs")
def runs_list(
    state: StateDep,
    viewer: ViewerDep,
    project: Text = None,
    start: Text = None,
    end: Text = None,
    verdict: Text = None,
    criterion: Text = None,
    scope: Annotated[str, Query(pattern="^(traces|all)$")] = "traces",
    after: Annotated[str | None, Query(max_length=40)] = None,
):
    visible = _visible(state, viewer)
    if not visible:
        return _no_archive(state, viewer)
    name = _project(visible, project)
    engine = get_engine(state.settings)
    first, last = resolve_range(engine, name, parse_day(start, "start"), parse_day(end, "end"))
    summary = archive_summary(engine, name, first, last)  # cached per day: the filter choices
    page = av.runs_page(
        engine,
        name,
        first,
        last,
        verdict=verdict or None,
        criterion=criterion or None,
        roots_only=scope == "traces",
        cursor=_cursor(after),
    )
    return _page(
        "archive_runs.html",
        state,
        viewer,
        projects=visible,
        summary=summary,
        page=page,
        verdict=verdict or "",
        criterion=criterion or "",
        scope=scope,
        after=after,
    )


@router.get("/archive/runs/{run_id}")
def run_page(state: StateDep, viewer: ViewerDep, run_id: Annotated[str, Path(max_length=64)]):
    engine = get_engine(state.settings)
    run = av.run_with_feedback(engine, run_id)
    if run is None or not state.access.allows(viewer.tenant, run.project):
        raise NotFoundError(f"no archived run {run_id!r} for this key")
    trace = av.trace_runs(engine, run.project, run.trace_id) if run.trace_id else [run]
    return _page("archive_run.html", state, viewer, run=run, tree=trace_tree(trace, run.run_id))
