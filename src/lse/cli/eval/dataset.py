"""`lse eval dataset upload|list|show|delete`."""

from __future__ import annotations

import mimetypes
import os
import stat
from pathlib import Path

import typer
from rich.table import Table

from lse.cli.console import err, out, print_json
from lse.cli.eval import app
from lse.cli.eval.tenant import OrgOption, ProjectOption, tenant_for
from lse.cli.safe_text import plain, safe
from lse.datasets.csv_upload import MAX_CSV_BYTES
from lse.datasets.schemas import DatasetPublic
from lse.errors import UsageError
from lse.settings import load_settings

dataset_app = typer.Typer(help="Golden datasets from CSV or from approved archived traces.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")


def datasets_table(rows: list[DatasetPublic]) -> Table:
    table = Table(title="Datasets")
    for col in ("id", "name", "items", "unique", "dup", "fast", "created"):
        table.add_column(col, justify="right" if col in ("id", "items", "unique", "dup") else "left")
    for d in rows:
        table.add_row(
            str(d.dataset_id),
            safe(d.dataset_name),
            str(d.total_items),
            str(d.original_items),
            str(d.duplication_factor),
            "yes" if d.eligible_for_fast else "no",
            d.inserted_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


def read_regular_file(path: Path, limit: int) -> bytes:
    """At most `limit + 1` bytes of `path`, which must be a regular file: a device
    (/dev/zero), a named pipe or a folder is refused before anything is read, and
    opening does not block on a pipe with no writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError as exc:
        raise UsageError(f"{plain(path)}: no such file") from exc
    except OSError as exc:
        raise UsageError(f"{plain(path)}: cannot open: {exc.strerror}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{plain(path)} is not a regular file: upload a CSV file")
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(64 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataset_app.command("upload")
def upload(
    file: Path = typer.Argument(..., help="CSV with question, answer[, category]: a regular file of at most 1 MB."),
    name: str = typer.Option(..., "--name", help="Dataset name, unique in the project."),
    description: str = typer.Option(None, "--description", help="Free text."),
    duplication_factor: int = typer.Option(1, "--duplication-factor", min=1, max=5, help="Items per CSV row (1-5)."),
    org: str = OrgOption,
    project: str = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the dataset as JSON."),
) -> None:
    """Upload a CSV as a dataset (same validation as the API)."""
    from lse.datasets import service as datasets

    settings = load_settings()
    data = read_regular_file(file, MAX_CSV_BYTES)
    # A local .csv is a CSV; the extension check still applies to anything else.
    content_type = "text/csv" if file.suffix.lower() == ".csv" else mimetypes.guess_type(file.name)[0]
    result = datasets.upload_dataset(
        settings,
        tenant_for(settings, org, project, create=True),
        datasets.DatasetUpload(
            name=name,
            data=data,
            filename=file.name,
            content_type=content_type,
            description=description,
            duplication_factor=duplication_factor,
        ),
    )
    if as_json:
        print_json(result)
        return
    out.print(datasets_table([result]))
    if result.skipped_rows:
        err.print(f"skipped {result.skipped_rows} row(s) with an empty question or answer")


@dataset_app.command("list")
def list_cmd(
    eligible_for_fast: bool = typer.Option(
        None, "--eligible-for-fast/--not-eligible-for-fast", help="Filter by fast eligibility."
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0, max=2**31 - 1),
    org: str = OrgOption,
    project: str = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the datasets as JSON."),
) -> None:
    """List the project's datasets, newest first."""
    from lse.datasets import service as datasets

    settings = load_settings()
    rows = datasets.list_datasets(
        settings, tenant_for(settings, org, project), limit=limit, offset=offset, eligible_for_fast=eligible_for_fast
    )
    print_json(rows) if as_json else out.print(datasets_table(rows))


@dataset_app.command("show")
def show(
    dataset_id: int = typer.Argument(..., help="Dataset id."),
    org: str = OrgOption,
    project: str = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the dataset as JSON."),
) -> None:
    """Show one dataset."""
    from lse.datasets import service as datasets

    settings = load_settings()
    d = datasets.get_dataset(settings, tenant_for(settings, org, project), dataset_id)
    print_json(d) if as_json else out.print(datasets_table([d]))


@dataset_app.command("delete")
def delete(
    dataset_id: int = typer.Argument(..., help="Dataset id."),
    org: str = OrgOption,
    project: str = ProjectOption,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a dataset, its items and its stored CSV (refused while runs use it)."""
    from lse.datasets import service as datasets

    settings = load_settings()
    tenant = tenant_for(settings, org, project)
    if not yes and not typer.confirm(f"delete dataset {dataset_id}?", err=True):
        raise UsageError("not confirmed; pass --yes to delete without asking")
    d = datasets.delete_dataset(settings, tenant, dataset_id)
    err.print(safe(f"deleted dataset {d.dataset_id} ({d.dataset_name})"))
