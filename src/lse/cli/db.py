"""`lse db ...` commands: bring the database to the schema of this version, show where it is.

They open the database without `get_engine`'s first-use check: they are how a database
behind head (or at a revision this lse does not know) is inspected and migrated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from lse.cli import console
from lse.settings import load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from lse.store.migrate import DbStatus

app = typer.Typer(help="Database maintenance: migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", "--revision", help="Target revision (default: head)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Apply the migrations the database is missing (LSE_DATABASE_URL, default SQLite)."""
    from lse.store.migrate import db_status, upgrade_to_head

    with _database() as engine:
        before = db_status(engine).current
        upgrade_to_head(engine, revision)
        status = db_status(engine)
    if json_out:
        console.print_json(status)
        return
    if before == status.current:
        console.out.print(f"{status.url}: already at {status.current}")
    else:
        console.out.print(f"{status.url}: upgraded {before or '(empty)'} -> {status.current}")


@app.command("current")
def current(json_out: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Show the database's schema revision and this version's head."""
    from lse.store.migrate import db_status

    with _database() as engine:
        status = db_status(engine)
    if json_out:
        console.print_json(status)
        return
    _render(status)


@contextmanager
def _database() -> Iterator[Engine]:
    """The configured database, opened without the first-use schema check, closed after."""
    from lse.store.engine import make_engine

    engine = make_engine(load_settings().effective_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


_STATES = {
    "up_to_date": "up to date",
    "empty": "empty: `lse db upgrade` or its first use creates the schema",
    "behind": "needs `lse db upgrade`",
    "unknown_revision": "a revision this lse does not know (a newer lse's?): upgrade lse",
    "unversioned": "lse tables without a revision: not made by lse's migrations",
}


def _render(status: DbStatus) -> None:
    console.out.print(
        f"{status.url} ({status.backend}): at {status.current or '(no revision)'}, head {status.head} — {_STATES[status.state]}",
        highlight=False,
        markup=False,
    )
