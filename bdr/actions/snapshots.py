"""`bdr snapshots`: the snapshots of each plan in each repository, read live from restic."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bdr.actions.context import Context
from bdr.errors import BdrError, ExitCode, worst
from bdr.restic import argv as build
from bdr.restic.environment import ResticEnv
from bdr.restic.gateway import Running
from bdr.restic.messages import Snapshot, snapshot_list
from bdr.restic.result import Result, require_ok
from bdr.store import judgements, verified

TAG_PREFIX = "bdr-plan="


@dataclass(frozen=True)
class SnapshotRow:
    repository: str
    plan: str | None
    snapshot: Snapshot
    # Of the ransomware judgement: "suspect" (open), "after suspect" (taken after an open
    # suspect snapshot of the plan, so not clean either), "cleared", "clean", or "" (not judged).
    judged: str = ""


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
    args = ctx.restic.args(build.snapshots, plan=plan)
    results: dict[str, Result | BdrError] = {}
    with ctx.time_limit("snapshots"):
        # Every repository is listed at once: each restic derives its key and reads its index
        # on its own, so a technician waits for the slowest tier, not for the sum of them.
        listings: dict[str, tuple[ResticEnv, Running]] = {}
        try:
            for name in names:
                try:
                    env = ctx.env(name)
                except BdrError as error:
                    results[name] = error
                    continue
                listings[name] = (env, ctx.restic.start(args, env))
            for name, (env, listing) in listings.items():
                results[name] = _listed(ctx, name, args, env, listing)
        except BaseException:
            for _, listing in listings.values():
                listing.stop()
            raise
    rows: list[SnapshotRow] = []
    errors: dict[str, str] = {}
    codes: list[ExitCode] = []
    for name in names:
        result = results[name]
        if isinstance(result, BdrError):
            errors[name] = result.message
            codes.append(result.exit_code)
            continue
        listed = [
            SnapshotRow(name, plan_of(snapshot), snapshot)
            for snapshot in snapshot_list(result.stdout)
        ]
        _note(ctx, name, plan, listed)
        rows.extend(listed)
    rows.sort(key=lambda row: (row.repository, row.snapshot.time))
    return Listing(_with_judgements(ctx, rows), errors, worst(codes))


def _with_judgements(ctx: Context, rows: list[SnapshotRow]) -> list[SnapshotRow]:
    """`rows` with each snapshot's ransomware judgement, the history read once a plan (a
    listing may hold hundreds of snapshots)."""
    plans = {row.plan for row in rows if row.plan is not None}
    boundaries = {plan: judgements.boundary(ctx.db, plan) for plan in plans}
    # Keyed by restic's short id: a backup's summary records the short one.
    known = {
        plan: {j.snapshot_id[:8]: j for j in judgements.of_plan(ctx.db, plan)} for plan in plans
    }
    return [
        _judged(row, boundaries[row.plan], known[row.plan]) if row.plan is not None else row
        for row in rows
    ]


def _judged(
    row: SnapshotRow, boundary: float | None, known: dict[str, judgements.Judgement]
) -> SnapshotRow:
    """`row` with its snapshot's judgement (a copy is judged as its original)."""
    found = known.get(row.snapshot.id[:8])
    if found is not None and found.repository != row.repository:
        found = None
    if found is None and row.snapshot.original:
        found = known.get(row.snapshot.original[:8])
    if found is not None and found.open:
        return replace(row, judged="suspect")
    if boundary is not None and row.snapshot.time.timestamp() >= boundary:
        return replace(row, judged="after suspect")
    if found is None:
        return row
    return replace(row, judged=found.review or "clean")


def _note(ctx: Context, repository: str, plan: str | None, rows: list[SnapshotRow]) -> None:
    """Note a whole listing of `repository` for each plan it holds: a verified snapshot it
    lacks is gone (store/verified.py)."""
    plans = [plan] if plan is not None else list(ctx.config.plans)
    for name in plans:
        chosen = ctx.config.plans.get(name)
        if chosen is not None and repository in (chosen.repository, *chosen.copy_to):
            present = [row.snapshot.id for row in rows if row.plan == name]
            verified.note_listing(ctx.db, name, repository, present, now=ctx.now)


def _listed(
    ctx: Context, name: str, args: tuple[str, ...], env: ResticEnv, listing: Running
) -> Result | BdrError:
    """The listing of repository `name`, or the error that says why there is none. A listing
    refused by a lock runs again after `restic unlock`, as any restic of bdr's."""
    try:
        return require_ok(
            ctx.restic.retry_if_locked(listing.result(), args, env), f"repository {name}"
        )
    except BdrError as error:
        return error
