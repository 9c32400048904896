"""`bdr drill run|list|history`."""

from __future__ import annotations

import click

from bdr.cli.app import App
from bdr.cli.params import complete_drills, snapshot_id


@click.group()
def drill() -> None:
    """Restore drills: prove that backups restore within the RTO."""


@drill.command()
@click.argument("name", required=False, shell_complete=complete_drills)
@click.option("--all", "run_all", is_flag=True, help="Run every configured drill.")
@click.option("--snapshot", callback=snapshot_id, help="Drill this snapshot instead of the newest.")
@click.pass_obj
def run(app: App, name: str | None, run_all: bool, snapshot: str | None) -> None:
    """Run drill NAME (or --all). Exit 0 passed, 4 failed (data, RTO, check), 1 error."""
    from bdr.actions.drill import run_drill

    if bool(name) == run_all:
        app.abort("name one drill, or pass --all", 2)
    if run_all and snapshot:
        app.abort("--snapshot goes with one drill, not --all", 2)
    ctx = app.context()
    names = list(app.config.drills) if run_all else [name or ""]
    if not names:
        app.abort(f"{app.config_path} has no [drills.*]", 2)
    results = [run_drill(ctx, drill_name, snapshot_id=snapshot) for drill_name in names]

    def show() -> None:
        from bdr.cli.render import console, plain, styled
        from bdr.config.units import format_duration

        out = console()
        for result in results:
            d = result.outcome
            out.print(
                f"drill {result.drill} ({result.plan} from {result.repository}, snapshot "
                f"{result.snapshot_id or '-'}): {styled(result.verdict.kind)}"
            )
            out.print(f"  {plain(result.verdict.reason)}")
            if d.phases is not None:
                phases = ", ".join(
                    f"{label} {format_duration(value)}"
                    for label, value in (
                        ("restore", d.phases.restore),
                        ("verify", d.phases.verify),
                        ("checks", d.phases.checks),
                    )
                )
                out.print(f"  {d.files} files verified against the snapshot; {phases}")
                out.print(
                    f"  source: {d.compared_files} files compared, "
                    f"{d.changed_files} changed since the snapshot; canary {d.canary or '-'}"
                )
            if d.projection_method not in (None, "measured") and d.projected_seconds is not None:
                error = d.projected_error_seconds
                spread = f" ± {format_duration(error)}" if error else ""
                rto = format_duration(d.rto) if d.rto is not None else "-"
                out.print(
                    f"  projected full recovery {format_duration(d.projected_seconds)}{spread} "
                    f"({d.projection_method}) against an RTO of {rto}"
                )
            if d.kept_scratch:
                out.print(f"  restored data kept in {plain(d.kept_scratch)}")

    app.finish_runs(results, show)


@drill.command("list")
@click.pass_obj
def list_drills(app: App) -> None:
    """List the configured drills and their last verdict."""
    from bdr.actions.drill.views import drill_list
    from bdr.cli.render import styled, table, when
    from bdr.config.units import format_duration

    rows = drill_list(app.config, app.history())
    if app.json_output:
        app.print_json([row.as_json() for row in rows])
        return
    table(
        None,
        ["drill", "plan", "repository", "kind", "schedule", "rto", "last run", "verdict"],
        [
            [
                r.drill,
                r.plan,
                r.repository,
                r.kind,
                r.schedule,
                format_duration(r.rto_seconds),
                when(r.last_run, short=True),
                styled(r.last_verdict or "-"),
            ]
            for r in rows
        ],
    )


@drill.command()
@click.argument("name", required=False, shell_complete=complete_drills)
@click.option("--limit", default=50, show_default=True, help="How many drills to show.")
@click.pass_obj
def history(app: App, name: str | None, limit: int) -> None:
    """Show past drills: snapshot, measured and projected time, RTO, headroom, verdict."""
    from bdr.actions.drill.views import drill_history
    from bdr.cli.render import styled, table, when
    from bdr.config.units import format_duration

    rows = drill_history(app.config, app.history(), name, limit=limit)
    if app.json_output:
        app.print_json([row.as_json() for row in rows])
        return

    def seconds(value: float | None) -> str:
        if value is None:
            return "-"
        return format_duration(value) if value >= 0 else "-" + format_duration(-value)

    table(
        None,
        [
            "when",
            "drill",
            "snapshot",
            "measured",
            "projected",
            "rto",
            "headroom",
            "verdict",
            "reason",
        ],
        [
            [
                when(r.ended_at, short=True),
                r.drill or "-",
                r.snapshot_id or "-",
                seconds(r.measured_seconds),
                seconds(r.projected_seconds)
                + (" uncalibrated" if r.projection_method == "uncalibrated" else ""),
                seconds(r.rto_seconds),
                seconds(r.headroom_seconds),
                styled(r.verdict),
                r.reason,
            ]
            for r in rows
        ],
        wrap="reason",
    )
