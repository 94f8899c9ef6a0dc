"""`lse report archive|eval`: the viewer's pages as one self-contained HTML file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from lse.cli.console import err
from lse.cli.options import parse_day
from lse.errors import UsageError

app = typer.Typer(help="Self-contained HTML reports of the archive and of evaluations.", no_args_is_help=True)


def write_html(path: Path, html: str) -> None:
    """Whole or not at all: a temp file beside the target, then a rename."""
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(f"--out {path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a file to share: the usual permissions, not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc}") from exc
    err.print(f"wrote {path} ({len(html.encode()) // 1024 + 1} KB)")


@app.command("archive")
def archive(
    project: str = typer.Option(..., "--project", help="Archived LangSmith project."),
    start_date: str | None = typer.Option(None, "--start-date", help="First day (default: 30 days before the last)."),
    end_date: str | None = typer.Option(None, "--end-date", help="Last day (default: the newest archived day)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="HTML file to write (default lse-archive-PROJECT.html)."),
) -> None:
    """Figures, charts and FAIL verdicts of an archived project's date range."""
    from lse.settings import load_settings
    from lse.web.report import archive_report

    start = parse_day(start_date, "--start-date") if start_date else None
    end = parse_day(end_date, "--end-date") if end_date else None
    html = archive_report(load_settings(), project, start, end)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in project)
    write_html(out or Path(f"lse-archive-{safe}.html"), html)


@app.command("eval")
def evaluation(
    run_id: int = typer.Argument(..., help="Evaluation run id."),
    compare: int | None = typer.Option(None, "--compare", help="Another run on the same dataset to compare with."),
    org: str = typer.Option(None, "--org", help="Only within this organization (with --project)."),
    project: str = typer.Option(None, "--project", help="Only within this project (with --org)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="HTML file to write (default lse-eval-RUN.html)."),
) -> None:
    """A run's score histogram and every item worst first, or two runs compared."""
    from lse.settings import load_settings
    from lse.tenancy import resolve_tenant
    from lse.web.report import evaluation_report

    if bool(org) != bool(project):
        raise UsageError("give both --org and --project, or neither")
    settings = load_settings()
    tenant = resolve_tenant(settings, org, project) if org and project else None
    html = evaluation_report(settings, tenant, run_id, compare)
    default = f"lse-eval-{run_id}-vs-{compare}.html" if compare else f"lse-eval-{run_id}.html"
    write_html(out or Path(default), html)
