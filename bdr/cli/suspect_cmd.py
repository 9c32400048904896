"""`bdr suspect list|show|clear|confirm`: backups judged suspect of ransomware."""

from __future__ import annotations

from typing import Any

import click

from bdr.cli.app import App
from bdr.cli.params import complete_plans
from bdr.store.judgements import Judgement


@click.group()
def suspect() -> None:
    """Backups judged suspect of ransomware: list, show, clear (false positive) or confirm."""


def _state(judgement: Judgement) -> str:
    return judgement.review or "open"


def _as_json(judgement: Judgement) -> dict[str, Any]:
    return {
        "snapshot_id": judgement.snapshot_id,
        "plan": judgement.plan,
        "repository": judgement.repository,
        "snapshot_time": judgement.snapshot_time,
        "run_id": judgement.run_id,
        "state": _state(judgement),
        "signals": list(judgement.signals),
        "counts": {
            "total": judgement.total,
            "previous_total": judgement.previous_total,
            "new": judgement.new,
            "changed": judgement.changed,
            "deleted": judgement.deleted,
            "renamed": judgement.renamed,
            "moved": judgement.moved,
        },
        "patterns_version": judgement.patterns_version,
        "reviewed_at": judgement.reviewed_at,
        "review_note": judgement.review_note,
    }


@suspect.command("list")
@click.argument("plan", required=False, shell_complete=complete_plans)
@click.option("--all", "show_all", is_flag=True, help="Also the cleared ones.")
@click.pass_obj
def list_suspects(app: App, plan: str | None, show_all: bool) -> None:
    """List the snapshots judged suspect (open and confirmed; --all: cleared too), newest
    first, and each plan's last clean restore point."""
    from bdr.actions.suspects import clean_points
    from bdr.store import judgements

    if plan is not None and plan not in app.config.plans:
        from bdr.errors import unknown_name

        raise unknown_name("plan", plan, app.config.plans)
    ctx = app.context()
    found = [
        j for j in judgements.suspects(ctx.db, plan) if show_all or j.review != judgements.CLEARED
    ]
    plans = [plan] if plan else sorted(app.config.plans)
    points = [point for name in plans for point in clean_points(ctx, name)]
    if app.json_output:
        app.print_json(
            {
                "suspect": [_as_json(j) for j in found],
                "last_clean": [
                    {
                        "plan": p.plan,
                        "repository": p.repository,
                        "snapshot_id": p.snapshot.snapshot_id if p.snapshot else None,
                        "snapshot_time": p.snapshot.snapshot_time if p.snapshot else None,
                    }
                    for p in points
                ],
            }
        )
        return
    from bdr.cli.render import plain, table, when

    table(
        f"snapshots judged suspect ({len(found)})",
        ["snapshot", "plan", "tier", "taken", "state", "why"],
        [
            [j.snapshot_id[:8], j.plan, j.repository, when(j.snapshot_time), _state(j), j.reason]
            for j in found
        ],
        wrap="why",
    )
    table(
        "last clean restore point (passed a drill, before any open suspect snapshot)",
        ["plan", "tier", "snapshot", "taken"],
        [
            [
                p.plan,
                p.repository,
                p.snapshot.snapshot_id[:8] if p.snapshot else "none",
                when(p.snapshot.snapshot_time) if p.snapshot else "-",
            ]
            for p in points
        ],
    )
    if not found:
        click.echo(plain("no snapshot is suspect"))


@suspect.command()
@click.argument("snapshot")
@click.pass_obj
def show(app: App, snapshot: str) -> None:
    """Show why SNAPSHOT was judged suspect: each signal with example paths, the counts, the
    review, and the plan's last clean restore point."""
    from bdr.actions.suspects import clean_points, find

    ctx = app.context()
    judgement = find(ctx, snapshot)
    points = clean_points(ctx, judgement.plan)
    if app.json_output:
        app.print_json(_as_json(judgement))
        return
    from bdr.cli.render import console, plain, when

    out = console()
    verdict = "suspect" if judgement.suspect else "clean"
    out.print(
        f"snapshot {judgement.snapshot_id[:8]} of plan {plain(judgement.plan)} in "
        f"{plain(judgement.repository)}, taken {when(judgement.snapshot_time)}: {verdict}"
        + (f" ({_state(judgement)})" if judgement.suspect else "")
    )
    for signal in judgement.signals:
        strength = "strong" if signal.get("strong") else "weak"
        out.print(f"  {strength}: {plain(signal.get('text', ''))}")
        for example in signal.get("examples", []):
            out.print(f"      {plain(example)}")
    out.print(
        f"  files: {judgement.total} ({judgement.previous_total} before); {judgement.new} new, "
        f"{judgement.changed} changed, {judgement.deleted} deleted, {judgement.renamed} "
        f"renamed, {judgement.moved} moved"
    )
    if judgement.review:
        out.print(
            f"  {judgement.review} {when(judgement.reviewed_at)}: {plain(judgement.review_note)}"
        )
    for point in points:
        clean = (
            f"{point.snapshot.snapshot_id[:8]} taken {when(point.snapshot.snapshot_time)}"
            if point.snapshot
            else "none (no drill passed on a snapshot before the suspect one)"
        )
        out.print(f"  last clean restore point in {plain(point.repository)}: {clean}")


@suspect.command()
@click.argument("snapshot")
@click.option("--note", required=True, help="Why the snapshot is clean (kept in the evidence).")
@click.pass_obj
def clear(app: App, snapshot: str, note: str) -> None:
    """Clear SNAPSHOT: the judgement was a false positive. Retention of the plan resumes once
    no suspect snapshot of it is open."""
    from bdr.actions.suspects import review
    from bdr.store.judgements import CLEARED

    app.finish_runs([review(app.context(), snapshot, CLEARED, note)])


@suspect.command()
@click.argument("snapshot")
@click.option("--note", default="", help="What was found (kept in the evidence).")
@click.pass_obj
def confirm(app: App, snapshot: str, note: str) -> None:
    """Confirm SNAPSHOT as ransomware's work: it stays suspect and retention stays held."""
    from bdr.actions.suspects import review
    from bdr.store.judgements import CONFIRMED

    app.finish_runs([review(app.context(), snapshot, CONFIRMED, note)])
