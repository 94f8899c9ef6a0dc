"""`lse admin ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Tenancy administration: organizations, projects, API keys.", no_args_is_help=True)
