"""`lse serve`: the REST API (FastAPI + uvicorn) under /api/v1, docs at /docs, the web viewer at /."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8000, help="Port."),
) -> None:
    """Run the REST API under /api/v1 (OpenAPI docs at /docs) and the web viewer at /."""
    import uvicorn

    from lse.api.app import create_app
    from lse.settings import load_settings
    from lse.store.engine import get_engine

    settings = load_settings()
    get_engine(settings)  # before accepting requests: a bad URL or a database needing `lse db upgrade` fails here
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
