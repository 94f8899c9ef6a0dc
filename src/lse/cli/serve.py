"""`lse serve`: the REST API (filled in by the evaluation-service work)."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8000, help="Port."),
) -> None:
    """Run the REST API (FastAPI + uvicorn) under /api/v1."""
    raise typer.Exit(1)
