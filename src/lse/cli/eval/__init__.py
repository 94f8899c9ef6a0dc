"""`lse eval ...`: datasets, configs, runs — the same services the REST API uses."""

from __future__ import annotations

import typer

app = typer.Typer(help="Evaluations: datasets, configs, runs.", no_args_is_help=True)

from lse.cli.eval import cancel as _cancel  # noqa: E402,F401 -- importing registers the command
from lse.cli.eval import config as _config  # noqa: E402,F401
from lse.cli.eval import dataset as _dataset  # noqa: E402,F401
from lse.cli.eval import dataset_from_archive as _dataset_from_archive  # noqa: E402,F401
from lse.cli.eval import export as _export  # noqa: E402,F401 -- importing registers the command
from lse.cli.eval import poll as _poll  # noqa: E402,F401 -- importing registers the command
from lse.cli.eval import push as _push  # noqa: E402,F401 -- importing registers the command
from lse.cli.eval import resume as _resume  # noqa: E402,F401
from lse.cli.eval import run as _run  # noqa: E402,F401
from lse.cli.eval import show as _show  # noqa: E402,F401
