"""One self-contained HTML file of an archive range or an evaluation run, for sharing.

The same templates and figures as the served pages, rendered with `standalone=True`:
the stylesheet is inlined, charts are inline SVG, and there is no script, no form and
no link to the server, so the file opens anywhere, offline, as it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from lse.errors import NotFoundError
from lse.evals import runs
from lse.settings import Settings
from lse.store import archive_views as av
from lse.store.engine import get_engine
from lse.tenancy import Tenant
from lse.web.rendering import render
from lse.web.views.archive import archive_summary, resolve_range
from lse.web.views.evaluations import compare, run_page

FAIL_RUNS_SHOWN = 100


def archive_report(settings: Settings, project: str, start: date | None = None, end: date | None = None) -> str:
    engine = get_engine(settings)
    if project not in av.archive_projects(engine):
        raise NotFoundError(f"no archived project {project!r} in the database: load days with `lse archive to-db`")
    first, last = resolve_range(engine, project, start, end)
    summary = archive_summary(engine, project, first, last)
    fail_runs = av.runs_page(engine, project, first, last, verdict="FAIL", roots_only=False, limit=FAIL_RUNS_SHOWN)
    return render(
        "archive.html",
        standalone=True,
        summary=summary,
        projects=[project],
        fail_runs=fail_runs.runs,
        generated_at=datetime.now(UTC),
    )


def evaluation_report(settings: Settings, tenant: Tenant | None, run_id: int, compare_with: int | None = None) -> str:
    """One run (every item, worst first), or two runs on the same dataset compared."""
    detail = runs.get_run(settings, tenant, run_id, include_results=True)
    now = datetime.now(UTC)
    if compare_with is not None:
        other = runs.get_run(settings, tenant, compare_with, include_results=True)
        return render("compare.html", standalone=True, cmp=compare(detail, other), generated_at=now)
    view = run_page(detail, page_size=max(len(detail.results or []), 1))
    return render("evaluation.html", standalone=True, view=view, can_cancel=False, generated_at=now)
