"""`lse demo`: the offline demo on embedded defaults."""

from __future__ import annotations

import typer


def demo() -> None:
    """Run the offline demo against the bundled sandbox servers."""
    raise typer.Exit(1)
