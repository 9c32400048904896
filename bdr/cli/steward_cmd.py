"""`bdr steward run`: on the MSP's steward host, keep the appliances' clouds."""

from __future__ import annotations

import click

from bdr.cli.app import App


@click.group()
def steward() -> None:
    """On the MSP's host: retention of the appliances' append-only clouds (README)."""


@steward.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.pass_obj
def run(app: App, names: tuple[str, ...]) -> None:
    """Check each cloud of [steward.NAME] (all when none is named), apply its keep-within
    policy to the snapshots whose times are trusted, and prune. Exit 3 when a snapshot's time
    is forged (it is kept and named)."""
    from bdr.actions.steward import keep_cloud, kept_clouds

    ctx = app.context()
    app.finish_runs([s for name in kept_clouds(ctx, names) for s in keep_cloud(ctx, name)])
