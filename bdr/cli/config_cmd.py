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
    from bdr.config.load import load_checked, warnings

    cfg = load_checked(app.config_path)
    found = warnings(cfg)
    if app.json_output:
        app.print_json({"config": str(app.config_path), "valid": True, "warnings": found})
        return
    for warning in found:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"{app.config_path}: valid ({len(cfg.repositories)} repositories, {len(cfg.plans)} plans, "
        f"{len(cfg.drills)} drills, {len(cfg.checks)} checks)"
    )


@config.command()
@click.pass_obj
def show(app: App) -> None:
    """Print the effective configuration, defaults filled in, secrets masked."""
    from bdr.config.ownership import backup_set
    from bdr.config.schema import dump
    from bdr.restic.environment import MASK

    config = app.config
    data = dump(config)
    for repository in data.get("repositories", {}).values():
        if "password_command" in repository:
            repository["password_command"] = MASK
    sets = {name: backup_set(config, name, plan) for name, plan in config.plans.items()}
    if app.json_output:
        data["backup_sets"] = {
            name: {
                "sources": [vars(source) for source in item.sources],
                "canary_dir": item.canary_dir,
                "excludes": list(item.excludes),
                "automatic_excludes": list(item.automatic),
                "retention_also_keeps": KEPT_BEYOND_POLICY
                if config.retained_tiers(config.plans[name])
                else None,
            }
            for name, item in sets.items()
        }
        app.print_json(data)
        return
    click.echo(to_toml(data))
    for name, item in sets.items():
        click.echo(
            f"# plans.{name}: restic backs up {', '.join(s.backed_up for s in item.sources)}"
            f" and bdr's canary {item.canary_dir}"
        )
        if item.automatic:
            click.echo(
                f"# plans.{name}: bdr also excludes what it owns inside the sources: "
                + ", ".join(item.automatic)
            )
        if list(item.excludes) != [*(config.plans[name].exclude)]:
            click.echo(f"# plans.{name}: restic --exclude {' '.join(item.excludes)}")
        if config.retained_tiers(config.plans[name]):
            click.echo(f"# plans.{name}.retention: {KEPT_BEYOND_POLICY}")


# What retention keeps on top of a plan's policy (bdr/actions/retention.py), said where the
# policy is shown.
KEPT_BEYOND_POLICY = (
    "also keeps, in each tier, the newest snapshot that passed a drill of that tier, and the "
    "newest a full drill passed on: the snapshots a restore was proven from"
)


@config.command()
def schema() -> None:
    """Print the JSON Schema of the config file."""
    from bdr.config.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))
