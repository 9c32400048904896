"""`bdr copy [PLAN]...`: copy plans to their other tiers now, as their copy job does."""

from __future__ import annotations

import click

from bdr.cli.app import App
from bdr.cli.params import complete_plans


@click.command()
@click.argument("plans", nargs=-1, metavar="[PLAN]...", shell_complete=complete_plans)
@click.pass_obj
def copy(app: App, plans: tuple[str, ...]) -> None:
    """Copy each plan's snapshots (all plans with a copy_to when none is named) to its copy_to
    tiers and apply its retention there: what the daemon's copy job does on a plan's
    copy_schedule, and a backup does otherwise.

    Exit 0 copied, 1 a copy failed, 5 a repository busy, 6 unreachable or refused.
    """
    from bdr.actions.backup import copy_tiers
    from bdr.errors import UsageError, unknown_name

    config = app.config
    for name in plans:
        if name not in config.plans:
            raise unknown_name("plan", name, config.plans)
    chosen = {n: p for n, p in config.plans_named(plans).items() if p.copy_to}
    if not chosen:
        raise UsageError("no plan named here has a copy_to tier to copy to")
    ctx = app.context()
    app.finish_runs([s for name, plan in chosen.items() for s in copy_tiers(ctx, name, plan)])
