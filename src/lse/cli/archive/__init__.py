"""`lse archive ...`: one file per command, each registering itself on `app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Archive LangSmith runs and feedback: fetch, to-db, full-sweep, verify, refetch, status.",
    no_args_is_help=True,
)

# each command module registers itself on `app` when imported, so these come after it
from lse.cli.archive import fetch as _fetch  # noqa: E402,F401 -- imported after `app` to register on it
from lse.cli.archive import full_sweep as _full_sweep  # noqa: E402,F401 -- imported after `app` to register on it
from lse.cli.archive import refetch as _refetch  # noqa: E402,F401 -- imported after `app` to register on it
from lse.cli.archive import status as _status  # noqa: E402,F401 -- imported after `app` to register on it
from lse.cli.archive import to_db as _to_db  # noqa: E402,F401 -- imported after `app` to register on it
from lse.cli.archive import verify as _verify  # noqa: E402,F401 -- imported after `app` to register on it
