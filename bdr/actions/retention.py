"""Retention of a plan's snapshots in one repository: `forget` by policy, verified ones kept.

Only forget: freeing the forgotten snapshots' data (`prune`) is a job of its own, on the
repository's prune schedule (bdr/actions/prune.py), so a backup never waits for a repack.

An append-only tier is never asked to forget (its server would refuse; the MSP's steward runs
its retention). While a snapshot of the plan is suspect of ransomware and not cleared,
retention forgets nothing of the plan in any tier (bdr/actions/detect.py).

On top of the plan's policy, retention never forgets the tier's verified snapshot (the newest
that passed a drill of it) nor the newest a full drill passed on (store/verified.py). The
verdicts live in bdr's history, not in restic tags: tagging rewrites a snapshot under a new
id (and leaves a duplicate on an append-only repository). So when there is a snapshot to
keep, restic's own policy is asked first (`forget --dry-run`), and bdr forgets exactly the
snapshots it would remove, less the kept ones.
"""

from __future__ import annotations

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.config.model import Retention
from bdr.errors import UsageError
from bdr.restic import argv as build
from bdr.restic.environment import ResticEnv
from bdr.restic.messages import forget_groups
from bdr.restic.result import require_ok
from bdr.store import judgements, verified
from bdr.store.outcomes import RetentionOutcome

# Snapshot ids per `forget` command line (65 bytes each): far below any argv limit.
IDS_PER_FORGET = 500


def apply_retention(ctx: Context, plan: str, repository: str, retention: Retention) -> RunSummary:
    """Forget the plan's snapshots beyond `retention` in `repository`, keeping the verified
    ones; one run."""
    if ctx.repository(repository).append_only:
        raise UsageError(f"repositories.{repository} is append_only: bdr never forgets there")
    with (
        recorded_run(ctx, "retention", plan=plan, repository=repository) as record,
        ctx.lock(repository, purpose=f"retention of plan {plan}"),
    ):
        suspect = judgements.open_suspects(ctx.db, plan)
        if suspect:
            # A suspect snapshot may be ransomware's work: every older snapshot may be the
            # one to restore, so none is forgotten until a technician clears it.
            first = suspect[0].snapshot_id[:8]
            record.outcome = RetentionOutcome(frozen_by=first)
            record.message = (
                f"nothing forgotten: snapshot {first} of plan {plan} is suspect of ransomware "
                f"(bdr suspect show {first}); retention resumes once it is cleared"
            )
            return RunSummary.of(record)
        env = ctx.env(repository)
        what = f"forget in {repository}"
        if not verified.kept(ctx.db, plan, repository):
            forget = require_ok(
                ctx.restic.run(ctx.restic.args(build.forget, plan, retention), env), what
            )
            removed = sum(len(group.remove) for group in forget_groups(forget.stdout))
            held: tuple[str, ...] = ()
        else:
            removed, held = _forget_keeping_verified(ctx, plan, repository, retention, env)
        record.outcome = RetentionOutcome(forgotten=removed, kept_verified=held)
        record.message = f"{removed} snapshot(s) forgotten" + (
            "; their data goes at the next prune" if removed else ""
        )
        if held:
            record.message += "; kept beyond the policy, verified by a drill: " + ", ".join(held)
    return RunSummary.of(record)


def _forget_keeping_verified(
    ctx: Context, plan: str, repository: str, retention: Retention, env: ResticEnv
) -> tuple[int, tuple[str, ...]]:
    """Forget what the policy removes but the verified snapshots; return how many were
    forgotten and the kept snapshots the policy would have removed."""
    what = f"forget in {repository}"
    dry = require_ok(
        ctx.restic.run(ctx.restic.args(build.forget, plan, retention, dry_run=True), env), what
    )
    groups = forget_groups(dry.stdout)
    listed = [snapshot_id for group in groups for snapshot_id in (*group.keep, *group.remove)]
    # A verified snapshot the listing lacks is gone (forgotten by hand): the one verified
    # before it, if it still exists, is the one to keep now.
    verified.note_listing(ctx.db, plan, repository, listed, now=ctx.now)
    keep = verified.kept(ctx.db, plan, repository)
    doomed: list[str] = []
    held: list[str] = []
    for snapshot_id in (sid for group in groups for sid in group.remove):
        if verified.holds(keep, snapshot_id):
            held.append(snapshot_id[:8])
        else:
            doomed.append(snapshot_id)
    for start in range(0, len(doomed), IDS_PER_FORGET):
        batch = doomed[start : start + IDS_PER_FORGET]
        require_ok(ctx.restic.run(ctx.restic.args(build.forget_ids, batch), env), what)
    return len(doomed), tuple(held)
