"""`bdr config check|show|schema`."""

from __future__ import annotations

import json

import click

from bdr.cli.app import App
from bdr.config.toml_writer import to_toml


@click.group()
def config() -> None:
    """Check, show or describe the configuration."""


@config.command()
@click.pass_obj
def check(app: App) -> None:
    """Validate the config file and every file it refers to; exit 2 listing every problem."""
    cfg = app.config
    if app.json_output:
        app.print_json({"config": str(app.config_path), "valid": True})
        return
    click.echo(
        f"{app.config_path}: valid ({len(cfg.repositories)} repositories, {len(cfg.plans)} plans, "
        f"{len(cfg.drills)} drills, {len(cfg.checks)} checks)"
    )


@config.command()
@click.pass_obj
def show(app: App) -> None:
    """Print the effective configuration, defaults filled in, secrets masked."""
    from bdr.restic.environment import MASK

    data = app.config.model_dump(mode="json", exclude_none=True)
    for repository in data.get("repositories", {}).values():
        if "password_command" in repository:
            repository["password_command"] = MASK
    if app.json_output:
        app.print_json(data)
        return
    click.echo(to_toml(data))


@config.command()
def schema() -> None:
    """Print the JSON Schema of the config file."""
    from bdr.config.model import Config

    click.echo(json.dumps(Config.model_json_schema(mode="validation"), indent=2))
