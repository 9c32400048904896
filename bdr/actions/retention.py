"""Retention of a plan's snapshots in one repository: `forget` by policy, then `prune`."""

from __future__ import annotations

from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.config.model import Retention
from bdr.restic import argv as build
from bdr.restic.messages import json_objects
from bdr.restic.runner import require_ok


def forgotten_count(lines: list[str]) -> int:
    """Return how many snapshots `restic forget --json` removed (its prune text is skipped)."""
    count = 0
    for data in json_objects(lines):
        for group in data if isinstance(data, list) else []:
            if isinstance(group, dict):
                count += len(group.get("remove") or [])
    return count


def apply_retention(ctx: Context, plan: str, repository: str, retention: Retention) -> RunSummary:
    """Forget the plan's snapshots beyond `retention` in `repository`, then prune; one run."""
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
        record.details["forgotten"] = removed
        if removed:
            ctx.say(f"pruning {repository} after forgetting {removed} snapshot(s) of plan {plan}")
            require_ok(ctx.restic.run(ctx.restic.args(build.prune), env), f"prune of {repository}")
        record.details["pruned"] = bool(removed)
        record.message = f"{removed} snapshot(s) forgotten" + (", pruned" if removed else "")
    return RunSummary.of(record)
