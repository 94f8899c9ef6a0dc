"""`lse sandbox ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Local LangSmith- and OpenAI-compatible servers for demos and tests.", no_args_is_help=True)
