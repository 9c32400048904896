"""`bdr steward run|audit|report`: on the MSP's steward host, keep the appliances' clouds
and audit the evidence they uploaded."""

from __future__ import annotations

from pathlib import Path

import click

from bdr.cli.app import App


@click.group()
def steward() -> None:
    """On the MSP's host: retention of the appliances' append-only clouds, and the audit of
    the evidence they upload (docs/evidence.md)."""


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


@steward.command()
@click.argument("appliances", nargs=-1, metavar="[APPLIANCE]...")
@click.pass_obj
def audit(app: App, appliances: tuple[str, ...]) -> None:
    """Verify each appliance's evidence in the cloud ([audit.APPLIANCE], all when none is
    named) against the key the MSP registered: links, signatures, no rollback since the last
    audit, a chain that goes on growing, reports quoting heads the chain holds. One line per
    appliance; exit 1 on any finding."""
    from bdr.actions.audit import audit_appliance, audited_appliances

    ctx = app.context()
    app.finish_runs([audit_appliance(ctx, name) for name in audited_appliances(ctx, appliances)])


@steward.command()
@click.argument("appliance")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month of the report.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where the report's files are written (under YYYY-MM/).",
)
@click.pass_obj
def report(app: App, appliance: str, month: str, out: Path) -> None:
    """Print APPLIANCE's report of --month from the cloud alone: its own signed report when it
    uploaded one, else one rebuilt from its uploaded, verified evidence chain."""
    from bdr.actions.steward_report import cloud_report

    printed = cloud_report(app.context(), appliance, month, out)
    if app.json_output:
        app.print_json(
            {
                "upload": printed.upload,
                "rebuilt": printed.rebuilt,
                "files": [str(path) for path in printed.paths],
            }
        )
        return
    how = (
        "rebuilt from the uploaded evidence chain (not signed by the appliance)"
        if printed.rebuilt
        else "the appliance's own signed report (each file has its .sig)"
    )
    click.echo(f"report of {appliance} for {month}, {how}:")
    for path in printed.paths:
        click.echo(f"  {path}")
