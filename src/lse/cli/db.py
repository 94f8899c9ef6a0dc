"""`lse db ...` commands: bring the database to the schema of this version, show where it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from lse.cli import console
from lse.settings import load_settings

if TYPE_CHECKING:
    from lse.store.migrate import DbStatus

app = typer.Typer(help="Database maintenance: migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", "--revision", help="Target revision (default: head)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Apply the migrations the database is missing (LSE_DATABASE_URL, default SQLite)."""
    from lse.store.engine import make_engine
    from lse.store.migrate import db_status, upgrade_to_head

    engine = make_engine(load_settings().effective_database_url)
    try:
        before = db_status(engine).current
        upgrade_to_head(engine, revision)
        status = db_status(engine)
    finally:
        engine.dispose()
    if json_out:
        typer.echo(status.model_dump_json(indent=2))
        return
    if before == status.current:
        console.out.print(f"{status.url}: already at {status.current}")
    else:
        console.out.print(f"{status.url}: upgraded {before or '(empty)'} -> {status.current}")


@app.command("current")
def current(json_out: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Show the database's schema revision and this version's head."""
    from lse.store.engine import make_engine
    from lse.store.migrate import db_status

    engine = make_engine(load_settings().effective_database_url)
    try:
        status = db_status(engine)
    finally:
        engine.dispose()
    if json_out:
        typer.echo(status.model_dump_json(indent=2))
        return
    _render(status)


def _render(status: DbStatus) -> None:
    state = "up to date" if status.up_to_date else "needs `lse db upgrade`"
    console.out.print(f"{status.url} ({status.backend}): at {status.current or '(empty)'}, head {status.head} — {state}")
