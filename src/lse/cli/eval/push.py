"""`lse eval dataset push DATASET --to langsmith|langfuse`: publish a golden dataset."""

from __future__ import annotations

import typer
from rich.table import Table

from lse.cli.console import out, print_json
from lse.cli.eval.dataset import dataset_app
from lse.cli.eval.tenant import OrgOption, ProjectOption, tenant_for
from lse.settings import load_settings


@dataset_app.command("push")
def push(
    dataset_id: int = typer.Argument(..., help="Dataset id."),
    to: str = typer.Option("langsmith", "--to", help="langsmith or langfuse."),
    org: str = OrgOption,
    project: str = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Create or update the dataset in LangSmith (or Langfuse) with stable example ids."""
    from lse.tracing import push_dataset

    if to not in ("langsmith", "langfuse"):
        raise typer.BadParameter("--to must be langsmith or langfuse")
    settings = load_settings()
    tenant = tenant_for(settings, org, project)
    result = push_dataset(
        settings, dataset_id, organization_id=tenant.organization_id, project_id=tenant.project_id, target=to
    )
    if as_json:
        print_json(result)
        return
    table = Table(title=f"Dataset {dataset_id} pushed to {result.target}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in (
        ("name", result.remote_name),
        ("id", result.remote_id),
        ("items", str(result.items)),
        ("created", str(result.created)),
        ("updated", str(result.updated)),
        ("unchanged", str(result.unchanged)),
        ("where", result.location),
    ):
        table.add_row(key, value)
    out.print(table)
