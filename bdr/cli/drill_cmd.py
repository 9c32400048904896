"""`bdr drill run|list|history`."""

from __future__ import annotations

from typing import Any

import click

from bdr.cli.app import App
from bdr.errors import worst


@click.group()
def drill() -> None:
    """Restore drills: prove that backups restore within the RTO."""


@drill.command()
@click.argument("name", required=False)
@click.option("--all", "run_all", is_flag=True, help="Run every configured drill.")
@click.option("--snapshot", help="Drill this snapshot instead of the newest.")
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
    app.publish()
    if app.json_output:
        app.print_json([result.as_json() for result in results])
    else:
        from bdr.cli.render import console, plain, styled
        from bdr.config.units import format_duration

        out = console()
        for result in results:
            d = result.details
            out.print(
                f"drill {result.drill} ({result.plan} from {result.repository}, snapshot "
                f"{result.snapshot_id or '-'}): {styled(result.verdict.kind)}"
            )
            out.print(f"  {plain(result.verdict.reason)}")
            if "phases" in d:
                phases = ", ".join(f"{k} {format_duration(v)}" for k, v in d["phases"].items())
                out.print(f"  {d['files']} files verified against the snapshot; {phases}")
                out.print(
                    f"  source: {d.get('compared_files', 0)} files compared, "
                    f"{d.get('changed_files', 0)} changed since the snapshot; canary "
                    f"{d.get('canary', '-')}"
                )
            if d.get("projection_method") not in (None, "measured"):
                error = d.get("projected_error_seconds")
                spread = f" ± {format_duration(error)}" if error else ""
                out.print(
                    f"  projected full recovery {format_duration(d['projected_seconds'])}{spread} "
                    f"({d['projection_method']}) against an RTO of {format_duration(d['rto'])}"
                )
            if d.get("kept_scratch"):
                out.print(f"  restored data kept in {plain(d['kept_scratch'])}")
    app.exit(worst([result.exit_code for result in results]))


@drill.command("list")
@click.pass_obj
def list_drills(app: App) -> None:
    """List the configured drills and their last verdict."""
    from bdr.cli.render import styled, table, when
    from bdr.config.units import format_duration
    from bdr.store import runs

    config = app.config
    db = app.history()
    rows: list[dict[str, Any]] = []
    for name, item in config.drills.items():
        last = next(iter(runs.finished_runs(db, "drill", subject=name, limit=1)), None)
        rows.append(
            {
                "drill": name,
                "plan": item.plan,
                "repository": item.repository,
                "kind": item.kind,
                "schedule": item.schedule,
                "rto_seconds": item.rto,
                "last_run": last.ended_at if last else None,
                "last_verdict": last.details.get("verdict", last.status) if last else None,
            }
        )
    if app.json_output:
        app.print_json(rows)
        return
    table(
        None,
        ["drill", "plan", "repository", "kind", "schedule", "rto", "last run", "verdict"],
        [
            [
                r["drill"],
                r["plan"],
                r["repository"],
                r["kind"],
                r["schedule"],
                format_duration(r["rto_seconds"]),
                when(r["last_run"], short=True),
                styled(r["last_verdict"] or "-"),
            ]
            for r in rows
        ],
    )


@drill.command()
@click.argument("name", required=False)
@click.option("--limit", default=50, show_default=True, help="How many drills to show.")
@click.pass_obj
def history(app: App, name: str | None, limit: int) -> None:
    """Show past drills: snapshot, measured and projected time, RTO, headroom, verdict."""
    from bdr.cli.render import styled, table, when
    from bdr.config.units import format_duration
    from bdr.store import runs

    if name is not None and name not in app.config.drills:
        app.abort(f"no drill named {name!r}", 2)
    db = app.history()
    rows: list[dict[str, Any]] = []
    for run in runs.finished_runs(db, "drill", subject=name, limit=limit):
        d = run.details
        projected = d.get("projected_seconds")
        rto = d.get("rto")
        rows.append(
            {
                "run_id": run.id,
                "drill": run.subject,
                "plan": run.plan,
                "repository": run.repository,
                "ended_at": run.ended_at,
                "snapshot_id": run.snapshot_id,
                "kind": d.get("kind"),
                "measured_seconds": d.get("recovery_seconds"),
                "projected_seconds": projected,
                "rto_seconds": rto,
                "headroom_seconds": None if projected is None or rto is None else rto - projected,
                "verdict": d.get("verdict", run.status),
                "reason": d.get("reason") or run.error,
            }
        )
    if app.json_output:
        app.print_json(rows)
        return

    def seconds(value: float | None) -> str:
        return "-" if value is None else format_duration(value)

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
                when(r["ended_at"], short=True),
                r["drill"],
                r["snapshot_id"] or "-",
                seconds(r["measured_seconds"]),
                seconds(r["projected_seconds"]),
                seconds(r["rto_seconds"]),
                "-"
                if r["headroom_seconds"] is None
                else (
                    seconds(r["headroom_seconds"])
                    if r["headroom_seconds"] >= 0
                    else "-" + seconds(-r["headroom_seconds"])
                ),
                styled(r["verdict"]),
                r["reason"] or "",
            ]
            for r in rows
        ],
    )
