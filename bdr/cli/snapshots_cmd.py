"""`bdr snapshots`."""

from __future__ import annotations

import click

from bdr.cli.app import App
from bdr.cli.params import complete_plans, complete_repositories


@click.command()
@click.option(
    "--plan",
    shell_complete=complete_plans,
    help="Only this plan's snapshots (in all its repositories).",
)
@click.option("--repository", shell_complete=complete_repositories, help="Only this repository.")
@click.pass_obj
def snapshots(app: App, plan: str | None, repository: str | None) -> None:
    """List the snapshots of plans, read live from the repositories."""
    from bdr.actions.snapshots import list_snapshots
    from bdr.cli.render import table
    from bdr.localtime import with_offset

    if plan is not None and plan not in app.config.plans:
        from bdr.errors import unknown_name

        raise unknown_name("plan", plan, app.config.plans)
    listing = list_snapshots(app.context(), plan=plan, repository=repository)
    if app.json_output:
        app.print_json(
            {
                "snapshots": [
                    {
                        "repository": row.repository,
                        "plan": row.plan,
                        "id": row.snapshot.id,
                        "short_id": row.snapshot.short_id,
                        "time": row.snapshot.time.isoformat(),
                        "paths": list(row.snapshot.paths),
                        "hostname": row.snapshot.hostname,
                        "judged": row.judged or None,
                    }
                    for row in listing.rows
                ],
                "errors": listing.errors,
            }
        )
    else:
        table(
            None,
            ["repository", "plan", "snapshot", "time", "ransomware", "paths"],
            [
                [
                    row.repository,
                    row.plan or "-",
                    row.snapshot.short_id,
                    with_offset(row.snapshot.time),
                    row.judged.upper() if row.judged.endswith("suspect") else row.judged or "-",
                    ", ".join(row.snapshot.paths),
                ]
                for row in listing.rows
            ],
            wrap="paths",
        )
    if listing.errors and not app.json_output:
        problems = "; ".join(f"{name}: {error}" for name, error in listing.errors.items())
        app.abort(f"not every repository could be listed: {problems}", listing.exit_code)
    app.exit(listing.exit_code)
