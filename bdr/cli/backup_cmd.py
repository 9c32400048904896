"""`bdr backup [PLAN...]`."""

from __future__ import annotations

import click

from bdr.cli.app import App
from bdr.cli.params import complete_plans, seconds


@click.command()
@click.argument("plans", nargs=-1, metavar="[PLAN]...", shell_complete=complete_plans)
@click.option(
    "--lock-timeout",
    type=float,
    metavar="SECONDS",
    callback=seconds,
    help="Wait at most this long for another bdr run on the same repository.",
)
@click.pass_obj
def backup(app: App, plans: tuple[str, ...], lock_timeout: float | None) -> None:
    """Back up PLANs (all when none is named), copy them to their tiers, apply retention.

    Exit 0 ok, 3 partial (missing sources or unreadable files), 1 failed,
    5 repository busy or locked, 6 repository missing or wrong password.
    """
    from bdr.actions.backup import backup_plans

    config = app.config
    unknown = [name for name in plans if name not in config.plans]
    if unknown:
        from bdr.errors import unknown_name

        raise unknown_name("plan", unknown[0], config.plans)
    if not config.plans:
        app.abort(f"{app.config_path} has no [plans.*]: nothing to back up", 2)
    summaries = backup_plans(app.context(lock_timeout=lock_timeout), config.plans_named(plans))
    app.finish_runs(summaries)
