"""`lse db ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Database maintenance: migrations.", no_args_is_help=True)
