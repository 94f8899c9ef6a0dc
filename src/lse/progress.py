"""How services report progress without knowing who listens (CLI bar, API, worker).

A service takes a `Progress` and calls `start(total, label)`, `update(n)` and
`complete()`. The CLI passes a Rich-backed implementation; everything else passes
`NullProgress`. Services never import Rich, Typer, FastAPI or Celery.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int | None, label: str = "") -> None: ...

    def update(self, n: int = 1) -> None: ...

    def complete(self) -> None: ...

    def log(self, message: str) -> None: ...


class NullProgress:
    def start(self, total: int | None, label: str = "") -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def complete(self) -> None:
        pass

    def log(self, message: str) -> None:
        pass
