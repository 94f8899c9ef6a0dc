"""`lse admin ...`: tenancy administration (organizations, projects, API keys, secrets)."""

from __future__ import annotations

import typer
from rich.table import Table

from lse.cli.console import err, out, print_json
from lse.cli.safe_text import safe
from lse.settings import load_settings

app = typer.Typer(help="Tenancy administration: organizations, projects, API keys.", no_args_is_help=True)


@app.command("create-key")
def create_key_cmd(
    org: str = typer.Option(..., "--org", help="Organization name (created if missing)."),
    project: str = typer.Option(..., "--project", help="Project name (created if missing)."),
    as_json: bool = typer.Option(False, "--json", help="Print {api_key, organization, project} as JSON."),
) -> None:
    """Create a new API key for ORG/PROJECT; the key is printed once and stored only hashed."""
    from lse.tenancy import create_key

    created = create_key(load_settings(), org, project)
    if as_json:
        print_json(
            {"api_key": created.api_key, "organization": created.tenant.organization, "project": created.tenant.project}
        )
        return
    typer.echo(created.api_key)
    err.print(
        safe(
            f"API key for {created.tenant.organization}/{created.tenant.project} "
            f"(prefix {created.key_prefix}); it is shown only now. Send it as the X-API-KEY header."
        )
    )


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@app.command("list-keys")
def list_keys_cmd(
    org: str = typer.Option(None, "--org", help="Only keys of this organization."),
    project: str = typer.Option(None, "--project", help="Only keys of this project."),
    revoked: bool = typer.Option(False, "--revoked", help="Include revoked keys."),
    as_json: bool = typer.Option(False, "--json", help="Print the keys as JSON."),
) -> None:
    """List API keys: id, prefix, tenant, created, last used (never the key itself)."""
    from lse.tenancy import list_keys

    keys = list_keys(load_settings(), org, project, include_revoked=revoked)
    if as_json:
        print_json(keys)
        return
    table = Table(title="API keys")
    for col in ("id", "prefix", "organization", "project", "created (UTC)", "last used (UTC)", "revoked (UTC)"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            str(k.id),
            safe(k.key_prefix),
            safe(k.organization),
            safe(k.project),
            _when(k.created_at),
            _when(k.last_used_at),
            _when(k.revoked_at),
        )
    out.print(table)


@app.command("revoke-key")
def revoke_key_cmd(
    key: str = typer.Argument(..., help="The key's id or prefix (from `lse admin list-keys`), or the key itself."),
) -> None:
    """Revoke an API key: from now on it answers 401."""
    from lse.tenancy import revoke_key

    info = revoke_key(load_settings(), key)
    err.print(safe(f"revoked key {info.id} ({info.key_prefix}) of {info.organization}/{info.project}"))


@app.command("generate-secret-key")
def generate_secret_key_cmd() -> None:
    """Print a new Fernet key for LSE_SECRET_KEY (encrypts stored provider credentials)."""
    from lse.tenancy.credentials import generate_secret_key

    typer.echo(generate_secret_key())


@app.command("rotate-credentials")
def rotate_credentials_cmd() -> None:
    """Re-encrypt every stored provider credential with the first key in LSE_SECRET_KEY."""
    from lse.tenancy.credentials import rotate_credentials

    count = rotate_credentials(load_settings())
    err.print(f"re-encrypted {count} credential(s) with the first key of LSE_SECRET_KEY")
