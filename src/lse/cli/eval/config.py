"""`lse eval config create|version|list`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from lse.cli.console import out, print_json
from lse.cli.eval import app
from lse.cli.eval.tenant import OrgOption, ProjectOption, tenant_for
from lse.cli.safe_text import safe
from lse.errors import UsageError
from lse.evals.schemas import ConfigBlob, ConfigCreate, ConfigVersionCreate
from lse.settings import load_settings

config_app = typer.Typer(help="Completion configs and their immutable versions.", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _blob(
    file: Path | None,
    provider: str,
    model: str | None,
    instructions: str | None,
    temperature: float | None,
    max_output_tokens: int | None,
) -> ConfigBlob:
    """The config_blob from --file (JSON, the whole blob) or from the flags."""
    if file is not None:
        try:
            raw: Any = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"cannot read config blob from {file}: {exc}") from exc
        raw = raw.get("config_blob", raw) if isinstance(raw, dict) else raw
    else:
        if not model:
            raise UsageError("give --model (and optionally --instructions, --temperature) or --file blob.json")
        params: dict[str, Any] = {"model": model}
        if instructions is not None:
            params["instructions"] = instructions
        if temperature is not None:
            params["temperature"] = temperature
        if max_output_tokens is not None:
            params["max_output_tokens"] = max_output_tokens
        raw = {"completion": {"provider": provider, "type": "text", "params": params}}
    try:
        return ConfigBlob.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(f"invalid config blob: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc


FileOpt = typer.Option(None, "--file", exists=True, dir_okay=False, help="JSON file with the config_blob.")
ProviderOpt = typer.Option("openai", "--provider", help="Provider (openai).")
ModelOpt = typer.Option(None, "--model", help="Model, e.g. gpt-4o-mini.")
InstrOpt = typer.Option(None, "--instructions", help="System instructions.")
TempOpt = typer.Option(None, "--temperature", min=0, max=2, help="Sampling temperature.")
MaxTokOpt = typer.Option(None, "--max-output-tokens", min=1, help="Output token cap.")


@config_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Config name, unique in the project."),
    description: str = typer.Option(None, "--description"),
    commit_message: str = typer.Option(None, "--commit-message", "-m"),
    file: Path = FileOpt,
    provider: str = ProviderOpt,
    model: str = ModelOpt,
    instructions: str = InstrOpt,
    temperature: float = TempOpt,
    max_output_tokens: int = MaxTokOpt,
    org: str = OrgOption,
    project: str = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the config as JSON."),
) -> None:
    """Create a config with version 1."""
    from lse.evals import configs

    settings = load_settings()
    blob = _blob(file, provider, model, instructions, temperature, max_output_tokens)
    try:
        body = ConfigCreate(name=name, description=description, commit_message=commit_message, config_blob=blob)
    except ValidationError as exc:
        raise UsageError(f"invalid config: {exc.errors()[0]['msg']}") from exc
    result = configs.create_config(settings, tenant_for(settings, org, project, create=True), body)
    if as_json:
        print_json(result)
    else:
        out.print(safe(f"config {result.id} ({result.name}) version {result.version.version}"))


@config_app.command("version")
def version(
    config_id: str = typer.Argument(..., help="Config id (UUID)."),
    commit_message: str = typer.Option(None, "--commit-message", "-m"),
    file: Path = FileOpt,
    provider: str = ProviderOpt,
    model: str = ModelOpt,
    instructions: str = InstrOpt,
    temperature: float = TempOpt,
    max_output_tokens: int = MaxTokOpt,
    org: str = OrgOption,
    project: str = ProjectOption,
    as_json: bool = typer.Option(False, "--json", help="Print the version as JSON."),
) -> None:
    """Add an immutable version to a config."""
    from lse.evals import configs

    settings = load_settings()
    blob = _blob(file, provider, model, instructions, temperature, max_output_tokens)
    result = configs.add_version(
        settings,
        tenant_for(settings, org, project),
        config_id,
        ConfigVersionCreate(commit_message=commit_message, config_blob=blob.model_dump(mode="json", exclude_none=True)),
    )
    if as_json:
        print_json(result)
    else:
        out.print(f"config {result.config_id} version {result.version}")


@config_app.command("list")
def list_cmd(
    org: str = OrgOption,
    project: str = ProjectOption,
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0, max=2**31 - 1),
    as_json: bool = typer.Option(False, "--json", help="Print the configs as JSON."),
) -> None:
    """List the project's configs (most recently changed first)."""
    from lse.evals import configs

    settings = load_settings()
    rows, _more = configs.list_configs(settings, tenant_for(settings, org, project), limit=limit, offset=offset)
    if as_json:
        print_json(rows)
        return
    table = Table(title="Configs")
    for col in ("id", "name", "latest", "updated"):
        table.add_column(col)
    for c in rows:
        table.add_row(c.id, safe(c.name), str(c.latest_version), c.updated_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)
