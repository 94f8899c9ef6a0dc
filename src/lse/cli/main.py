"""The `lse` command: sub-apps per part, one error handler that turns LseError into one line."""

from __future__ import annotations

import logging
import sys

import typer

from lse import __version__
from lse.cli.admin import app as admin_app
from lse.cli.archive import app as archive_app
from lse.cli.db import app as db_app
from lse.cli.demo import demo
from lse.cli.eval import app as eval_app
from lse.cli.report import app as report_app
from lse.cli.sandbox import app as sandbox_app
from lse.cli.serve import serve
from lse.cli.worker import worker
from lse.errors import ExitCode, LseError

app = typer.Typer(
    name="lse",
    help="LangSmith extractor: lossless archive of runs and feedback, golden datasets, evaluations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(archive_app, name="archive")
app.add_typer(db_app, name="db")
app.add_typer(eval_app, name="eval")
app.add_typer(admin_app, name="admin")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(report_app, name="report")
app.command("serve")(serve)
app.command("worker")(worker)
app.command("demo")(demo)

_debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lse {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    global _debug  # noqa: PLW0603 -- one process-wide flag the error handler reads after Typer returns
    _debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run() -> None:
    """Console-script entry point: exit codes per the contract, one line per error."""
    try:
        code = app(standalone_mode=False)  # click returns (not raises) the code of typer.Exit
    except LseError as exc:
        if _debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except typer.TyperException as exc:  # the CLI parser's usage errors (exit_code 2) and kin
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"error: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", ExitCode.USAGE))
    except Exception as exc:  # a bug: one line, the traceback only with --debug
        if _debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        sys.exit(ExitCode.ERROR)
    if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into a silent Exit(130)
        print("interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


if __name__ == "__main__":
    run()
