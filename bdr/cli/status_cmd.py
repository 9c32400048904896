"""`bdr status`."""

from __future__ import annotations

import time

import click

from bdr.cli.app import App


@click.command()
@click.pass_obj
def status(app: App) -> None:
    """Show, per plan and repository, the last backup and the newest snapshot's age vs the RPO."""
    from bdr.actions.status import plan_status
    from bdr.cli.render import age, styled, table, when
    from bdr.config.units import format_duration
    from bdr.store.database import connect
    from bdr.store.runs import recover_dead_runs

    config = app.config
    db = connect(config.appliance.state_dir)
    recover_dead_runs(db)
    rows = plan_status(config, db, time.time())
    if app.json_output:
        app.print_json(
            {
                "appliance": config.appliance.id,
                "client": config.appliance.client,
                "plans": [row.as_json() for row in rows],
            }
        )
        return
    table(
        f"{config.appliance.client} — {config.appliance.id}",
        ["plan", "repository", "last run", "result", "snapshot", "age", "verified", "rpo", "state"],
        [
            [
                row.plan,
                row.repository,
                when(row.last_run.started_at, short=True) if row.last_run else "-",
                styled(row.last_run.status) if row.last_run else "-",
                row.snapshot_id or "-",
                age(row.snapshot_age),
                age(row.verified_age),
                format_duration(row.rpo),
                styled(row.state),
            ]
            for row in rows
        ],
    )
