"""`bdr daemon`."""

from __future__ import annotations

import click

from bdr.cli.app import App


@click.command()
@click.pass_obj
def daemon(app: App) -> None:
    """Run the appliance service: scheduled backups, drills and checks (for systemd)."""
    from bdr.daemon import main

    app.exit(main(app.config_path))
