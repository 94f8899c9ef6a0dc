"""`lse sandbox langsmith|openai|langfuse`: run a local compatible server in the foreground.

Point the SDKs at it (LANGSMITH_ENDPOINT / OPENAI_BASE_URL / LANGFUSE_HOST) to try lse with no network.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import typer

from lse.cli.console import err
from lse.cli.options import parse_day

app = typer.Typer(
    help="Local LangSmith-, OpenAI- and Langfuse-compatible servers for demos and tests.", no_args_is_help=True
)


def demo_day() -> date:
    """Yesterday (UTC): inside LangSmith's 14-day retention, so re-fetch demos make sense."""
    return (datetime.now(UTC) - timedelta(days=1)).date()


@app.command("langsmith")
def langsmith(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(1984, help="Port."),
    api_key: str = typer.Option("sandbox-key", help="The API key clients must send."),
    project: str = typer.Option("demo-project", help="Name of the synthetic project."),
    day: str | None = typer.Option(None, "--date", help="Day of the synthetic traces (default yesterday, UTC)."),
) -> None:
    """Serve a LangSmith-compatible API with a deterministic synthetic project."""
    from lse.sandbox.langsmith import default_demo_spec, serve_forever

    the_day = parse_day(day, "--date") if day else demo_day()
    err.print(f"LangSmith sandbox on http://{host}:{port} — project {project!r}, day {the_day}, key {api_key!r}")
    serve_forever([default_demo_spec(the_day, project=project)], host=host, port=port, api_key=api_key)


@app.command("openai")
def openai(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8001, help="Port."),
    api_key: str = typer.Option("sk-sandbox", help="The API key clients must send."),
) -> None:
    """Serve an OpenAI-compatible API (/v1/responses, /v1/embeddings) with deterministic outputs."""
    from lse.sandbox.openai import serve_forever

    err.print(f"OpenAI sandbox on http://{host}:{port}/v1 — key {api_key!r}")
    serve_forever(host=host, port=port, api_key=api_key)


@app.command("langfuse")
def langfuse(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(3000, help="Port."),
    public_key: str = typer.Option("pk-lf-sandbox", help="The public key clients must send."),
    secret_key: str = typer.Option("sk-lf-sandbox", help="The secret key clients must send."),
) -> None:
    """Serve a Langfuse-compatible API (OTLP traces, scores, datasets, experiments) in memory."""
    from lse.sandbox.langfuse import serve_forever

    err.print(f"Langfuse sandbox on http://{host}:{port} — keys {public_key!r} / {secret_key!r}")
    serve_forever(host=host, port=port, public_key=public_key, secret_key=secret_key)
