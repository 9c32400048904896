"""Retention of a plan's snapshots in one repository: `forget` by policy.

Only forget: freeing the forgotten snapshots' data (`prune`) is a job of its own, on the
repository's prune schedule (bdr/actions/prune.py), so a backup never waits for a repack.
"""

from __future__ import annotations

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.config.model import Retention
from bdr.restic import argv as build
from bdr.restic.messages import forgotten_count
from bdr.restic.runner import require_ok
from bdr.store.outcomes import RetentionOutcome


def apply_retention(ctx: Context, plan: str, repository: str, retention: Retention) -> RunSummary:
    """Forget the plan's snapshots beyond `retention` in `repository`; one run."""
    with (
        recorded_run(ctx, "retention", plan=plan, repository=repository) as record,
        ctx.lock(repository, purpose=f"retention of plan {plan}"),
    ):
        env = ctx.env(repository)
        forget = require_ok(
            ctx.restic.run(ctx.restic.args(build.forget, plan, retention), env),
            f"forget in {repository}",
        )
        removed = forgotten_count(forget.stdout)
        record.outcome = RetentionOutcome(forgotten=removed)
        record.message = f"{removed} snapshot(s) forgotten" + (
            "; their data goes at the next prune" if removed else ""
        )
    return RunSummary.of(record)
