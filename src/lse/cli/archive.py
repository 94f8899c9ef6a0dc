"""`lse archive ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Archive LangSmith runs and feedback: fetch, to-db, full-sweep, verify, refetch, status.", no_args_is_help=True)
