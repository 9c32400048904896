"""`bdr status`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bdr.cli.app import App

if TYPE_CHECKING:
    from bdr.config.model import Config
    from bdr.store.database import History


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help="One line and a Nagios exit code for monitors and RMM tools: 0 ok, 1 warning, "
    "2 critical (RPO exceeded, suspect, failed, daemon down), 3 unknown.",
)
@click.pass_obj
def status(app: App, check: bool) -> None:
    """Show, per plan and repository, the last backup and the newest snapshot's age vs the RPO."""
    from bdr.actions.status import daemon_status, plan_status
    from bdr.cli.render import age, styled, table, when
    from bdr.config.units import format_duration

    if check:
        _check(app)
    config = app.config
    db = app.history()
    now = time.time()
    rows = plan_status(config, db, now)
    service = daemon_status(db, now)
    from bdr.store import runs

    # A damaged history salvaged in the last 30 days is said until someone has seen it.
    damaged = runs.last_run(db, "history")
    if damaged is not None and now - damaged.started_at > 30 * 86400:
        damaged = None
    if app.json_output:
        app.print_json(
            {
                "appliance": config.appliance.id,
                "client": config.appliance.client,
                "plans": [row.as_json() for row in rows],
                "daemon": service.as_json(),
                "evidence_upload": _upload_json(config, db),
                "history_damaged": (
                    {"run_id": damaged.id, "at": damaged.started_at, "what": damaged.error}
                    if damaged
                    else None
                ),
            }
        )
        return
    if damaged is not None:
        click.echo(
            f"WARNING: {when(damaged.started_at, short=True)} (run {damaged.id}): {damaged.error}",
            err=True,
        )
    table(
        f"{config.appliance.client} — {config.appliance.id}",
        ["plan", "repository", "last run", "result", "snapshot", "age", "verified", "rpo", "state"],
        [
            [
                row.facts.plan,
                row.facts.repository + (" (append-only)" if row.append_only else ""),
                when(row.facts.last_run.started_at, short=True) if row.facts.last_run else "-",
                styled(row.facts.last_run.status) if row.facts.last_run else "-",
                row.facts.latest.snapshot_id if row.facts.latest else "-",
                age(row.snapshot_age, in_future=row.snapshot_in_future),
                age(row.verified_age),
                format_duration(row.rpo),
                styled(row.state),
            ]
            for row in rows
        ],
        wrap="state",
    )
    for row in rows:
        suspect, clean = row.facts.suspect, row.facts.last_clean
        if suspect is not None:
            point = f"{clean.snapshot_id} ({when(clean.snapshot_time)})" if clean else "none"
            click.echo(
                f"{row.facts.plan} in {row.facts.repository}: snapshot "
                f"{suspect.snapshot_id[:8]} suspect of ransomware (bdr suspect show "
                f"{suspect.snapshot_id[:8]}); last clean restore point: {point}"
            )
    if service.heartbeat_age is None:
        click.echo("daemon: never ran on this appliance")
    else:
        state = "alive" if service.alive else "NOT RUNNING"
        click.echo(f"daemon: {state} (last heartbeat {age(service.heartbeat_age)})")
    uploads = _upload_json(config, db)
    if uploads is not None:
        done = uploads["uploaded_at"]
        line = f"evidence: {uploads['pending']} waiting for {uploads['store']}" + (
            f", last upload {age(time.time() - done)}" if done is not None else ", never uploaded"
        )
        if uploads["error"]:
            line += f"; the last try failed: {uploads['error']}"
        click.echo(line)
    if service.jobs:
        table(
            None,
            ["job", "schedule", "last run", "next run"],
            [
                [
                    job.job_id,
                    job.cron,
                    when(job.last_fire, short=True),
                    when(job.next_run, short=True) if service.alive else "-",
                ]
                for job in service.jobs
            ],
        )


def _upload_json(config: Config, db: History) -> dict[str, Any] | None:
    """Where the evidence goes and what waits (None when it goes nowhere)."""
    from bdr.evidence.upload import waiting
    from bdr.store import daemon_state

    if config.evidence.upload_to is None:
        return None
    state = daemon_state.uploaded(db)
    return {
        "store": config.evidence.upload_to,
        "pending": waiting(config, db),
        "uploaded_seq": state.seq,
        "uploaded_at": state.at,
        "error": state.error,
    }


def _check(app: App) -> NoReturn:
    """`status --check`: one line, one Nagios code; a config or history that cannot be read is
    UNKNOWN (3), never a crash a monitor reports as CRITICAL."""
    from bdr.actions.status import Verdict, daemon_status, plan_status, verdict
    from bdr.errors import BdrError

    try:
        now = time.time()
        db = app.history()
        judged = verdict(plan_status(app.config, db, now), daemon_status(db, now))
    except BdrError as error:
        judged = Verdict(3, f"BDR UNKNOWN - {error.message}")
    if app.json_output:
        app.print_json({"code": judged.code, "line": judged.line})
    else:
        click.echo(judged.line)
    app.exit(judged.code)
