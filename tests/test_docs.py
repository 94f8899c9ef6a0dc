"""Docs cannot drift: every command has help and is in the README; every setting is in
.env.example; the README's test command is what CI runs."""

from __future__ import annotations

from pathlib import Path

import typer.main

from lse.cli.main import app
from lse.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _commands(cmd, prefix: str) -> list[tuple[str, object]]:
    if getattr(cmd, "commands", None):
        out = []
        for name, sub in cmd.commands.items():
            out += _commands(sub, f"{prefix} {name}")
        return out
    return [(prefix, cmd)]


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    commands = _commands(root, "lse")
    assert len(commands) > 10
    missing_help = [name for name, cmd in commands if not (cmd.help or "").strip()]
    missing_docs = [name for name, _ in commands if name not in readme]
    assert not missing_help, missing_help
    assert not missing_docs, missing_docs


def _env_name(name: str, field) -> str:
    if field.validation_alias is not None:
        return field.validation_alias.choices[0]
    return "LSE_" + name.upper()


def test_env_example_lists_every_setting():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {_env_name(n, f) for n, f in Settings.model_fields.items()}
    missing = sorted(n for n in names if f"{n}=" not in example)
    assert not missing, missing


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make test" in ci
    assert "make demo" in readme
