"""`bdr check [REPOSITORY]`."""

from __future__ import annotations

import click

from bdr.cli.app import App
from bdr.cli.params import complete_repositories


@click.command()
@click.argument("repository", required=False, shell_complete=complete_repositories)
@click.pass_obj
def check(app: App, repository: str | None) -> None:
    """Check repositories and read the next subset of their packs (every pack once per cycle)."""
    from bdr.actions.check import check_repository, checks_to_run

    ctx = app.context()
    summaries = [
        check_repository(ctx, name, cycle) for name, cycle in checks_to_run(ctx, repository).items()
    ]
    app.finish_runs(summaries)
