"""`bdr config check|show|schema`."""

from __future__ import annotations

import json
import re

import click

from bdr.cli.app import App


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
    click.echo(_toml(data))


@config.command()
def schema() -> None:
    """Print the JSON Schema of the config file."""
    from bdr.config.model import Config

    click.echo(json.dumps(Config.model_json_schema(mode="validation"), indent=2))


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return json.dumps(value)


def _toml(data: dict[str, object], prefix: str = "") -> str:
    """Render nested tables as TOML: a table's own keys first, then its sub-tables."""
    scalars = [(key, value) for key, value in data.items() if not isinstance(value, dict)]
    tables = [(key, value) for key, value in data.items() if isinstance(value, dict)]
    lines = [f"[{prefix}]"] if prefix and (scalars or not tables) else []
    lines += [f"{_key(key)} = {_value(value)}" for key, value in scalars]
    for key, value in tables:
        name = f"{prefix}.{_key(key)}" if prefix else _key(key)
        lines += ["", _toml(value, name)]
    return "\n".join(lines).strip("\n")
