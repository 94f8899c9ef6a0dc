"""`lse eval ...`: datasets, configs, runs — the same services the REST API uses."""

from __future__ import annotations

import typer

app = typer.Typer(help="Evaluations: datasets, configs, runs.", no_args_is_help=True)
