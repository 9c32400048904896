"""Copying a plan's snapshots to another tier (`restic copy`), as its own run."""

from __future__ import annotations

from bdr.actions.context import Context, RunRecord, record_latest_snapshot, recorded_run
from bdr.actions.summary import RunSummary
from bdr.restic import argv as build
from bdr.restic.messages import copied_count, snapshot_list
from bdr.restic.result import require_ok
from bdr.store import verified
from bdr.store.outcomes import CopyOutcome


def copy_plan(ctx: Context, plan: str, source: str, target: str) -> RunSummary:
    """Copy every snapshot of `plan` that `target` lacks from `source`; return the run summary.

    A failure here (an offline cloud) is recorded on the copy run alone; the next copy catches
    up because restic copies only the snapshots the target does not have yet.
    """
    with (
        recorded_run(ctx, "copy", plan=plan, repository=target, subject=source) as record,
        ctx.lock(source, target, purpose=f"copy of plan {plan} to {target}", exclusive=False),
    ):
        ctx.say(f"copying plan {plan} from {source} to {target}")
        result = ctx.restic.run(
            ctx.restic.args(build.copy, plan), ctx.env(target, from_repository=source)
        )
        record.outcome = CopyOutcome(restic_exit_code=result.exit_code)
        require_ok(result, f"copy of plan {plan} to {target}")
        copied = copied_count(result.stdout)
        record.outcome = CopyOutcome(
            copied_snapshots=copied,
            restic_exit_code=result.exit_code,
            snapshot_time=_record_newest(ctx, plan, target, record),
        )
        record.message = f"{copied} new snapshot(s) copied from {source}"
    return RunSummary.of(record)


def _record_newest(ctx: Context, plan: str, repository: str, record: RunRecord) -> float | None:
    """Record the newest snapshot of `plan` on `repository`; return its time."""
    listing = ctx.restic.run(ctx.restic.args(build.snapshots, plan=plan), ctx.env(repository))
    snapshots = snapshot_list(listing.stdout) if listing.ok else []
    if listing.ok:
        verified.note_listing(ctx.db, plan, repository, [s.id for s in snapshots], now=ctx.now)
    if snapshots:
        newest = snapshots[-1]
        record.snapshot_id = newest.short_id
        record_latest_snapshot(
            ctx, record, plan, repository, newest.short_id, newest.time.timestamp()
        )
        return newest.time.timestamp()
    return None
