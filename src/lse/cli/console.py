"""Rich consoles, the one JSON printer and the Rich-backed Progress.

stdout is data — tables, reports, JSON — and stderr is everything else: progress,
logs, notes about what was skipped. With `--json` a command prints `print_json(result)`
and nothing else on stdout.
"""

from __future__ import annotations

from typing import Any, Self

import typer
from pydantic_core import to_json
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as RichProgress,
)


def _console(stderr: bool) -> Console:
    """A terminal gets its own width; a pipe or file gets room for whole tables."""
    console = Console(stderr=stderr, soft_wrap=True)
    return console if console.is_terminal else Console(stderr=stderr, soft_wrap=True, width=160)


out = _console(stderr=False)
err = _console(stderr=True)


def print_json(value: Any) -> None:
    """`value` on stdout as indented JSON: a pydantic model (computed fields included),
    a list of them, or plain data — dates as ISO-8601, every command alike. Plain text,
    never coloured or wrapped, so a pipe gets exactly the JSON."""
    typer.echo(to_json(value, indent=2).decode("utf-8"))


class BarProgress:
    """A `lse.progress.Progress` drawn as a Rich bar on stderr; silent when not a TTY."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = err.is_terminal if enabled is None else enabled
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        if self.enabled:
            self._bar = RichProgress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=False,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, total: int | None, label: str = "") -> None:
        if self._bar is not None:
            if self._task is not None:
                self._bar.update(self._task, visible=True)
            self._task = self._bar.add_task(label or "working", total=total)

    def update(self, n: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def complete(self) -> None:
        if self._bar is not None and self._task is not None:
            task = self._bar.tasks[-1]
            if task.total is not None:
                self._bar.update(self._task, completed=task.total)

    def log(self, message: str) -> None:
        if self.enabled:
            err.print(message)
