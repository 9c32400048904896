"""`bdr snapshots`: the snapshots of each plan in each repository, read live from restic."""

from __future__ import annotations

from dataclasses import dataclass

from bdr.actions.context import Context
from bdr.errors import BdrError, ExitCode, worst
from bdr.restic import argv as build
from bdr.restic.messages import Snapshot, snapshot_list
from bdr.restic.runner import require_ok

TAG_PREFIX = "bdr-plan="


@dataclass(frozen=True)
class SnapshotRow:
    repository: str
    plan: str | None
    snapshot: Snapshot


@dataclass(frozen=True)
class Listing:
    rows: list[SnapshotRow]
    errors: dict[str, str]
    exit_code: ExitCode


def plan_of(snapshot: Snapshot) -> str | None:
    for tag in snapshot.tags:
        if tag.startswith(TAG_PREFIX):
            return tag.removeprefix(TAG_PREFIX)
    return None


def list_snapshots(ctx: Context, *, plan: str | None, repository: str | None) -> Listing:
    """Return the snapshots in the chosen repositories (those of `plan` when it is given)."""
    if repository is not None:
        ctx.repository(repository)
        names = [repository]
    elif plan is not None:
        chosen = ctx.config.plans[plan]
        names = [chosen.repository, *chosen.copy_to]
    else:
        names = sorted(ctx.config.repositories)
    rows: list[SnapshotRow] = []
    errors: dict[str, str] = {}
    codes: list[ExitCode] = []
    for name in names:
        try:
            with ctx.time_limit("snapshots"):
                result = require_ok(
                    ctx.restic.run(ctx.restic.args(build.snapshots, plan=plan), ctx.env(name)),
                    f"repository {name}",
                )
        except BdrError as error:
            errors[name] = error.message
            codes.append(error.exit_code)
            continue
        rows.extend(
            SnapshotRow(name, plan_of(snapshot), snapshot)
            for snapshot in snapshot_list(result.stdout)
        )
    rows.sort(key=lambda row: (row.repository, row.snapshot.time))
    return Listing(rows, errors, worst(codes))
