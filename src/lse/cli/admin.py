"""`lse admin ...`: tenancy administration (organizations, projects, API keys)."""

from __future__ import annotations

import json

import typer

from lse.cli.console import err
from lse.settings import load_settings
from lse.tenancy import create_key

app = typer.Typer(help="Tenancy administration: organizations, projects, API keys.", no_args_is_help=True)


@app.command("create-key")
def create_key_cmd(
    org: str = typer.Option(..., "--org", help="Organization name (created if missing)."),
    project: str = typer.Option(..., "--project", help="Project name (created if missing)."),
    as_json: bool = typer.Option(False, "--json", help="Print {api_key, organization, project} as JSON."),
) -> None:
    """Create a new API key for ORG/PROJECT; the key is printed once and stored only hashed."""
    created = create_key(load_settings(), org, project)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "api_key": created.api_key,
                    "organization": created.tenant.organization,
                    "project": created.tenant.project,
                }
            )
        )
        return
    typer.echo(created.api_key)
    err.print(
        f"API key for {created.tenant.organization}/{created.tenant.project} "
        f"(prefix {created.key_prefix}); it is shown only now. Send it as the X-API-KEY header."
    )
