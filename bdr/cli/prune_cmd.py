"""`bdr prune [REPOSITORY]`."""

from __future__ import annotations

import click

from bdr.cli.app import App
from bdr.cli.params import complete_repositories


@click.command()
@click.argument("repository", required=False, shell_complete=complete_repositories)
@click.pass_obj
def prune(app: App, repository: str | None) -> None:
    """Free the data of forgotten snapshots (restic prune), as the daemon does on schedule."""
    from bdr.actions.prune import prune_repository, pruned_repositories

    ctx = app.context()
    app.finish_runs([prune_repository(ctx, name) for name in pruned_repositories(ctx, repository)])
