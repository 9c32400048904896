"""`bdr steward run`: on the MSP's steward host, keep an appliance's cloud repository.

For each `[steward.NAME]` (repositories.NAME is the appliance's cloud, reached with the
full-access login the appliance does not have): a check of the repository and its next subset
of packs; then, only if it passed, the retention run: the listing, the snapshots whose time is
forged set aside (steward/policy.py), the keep-within policy applied from now, `forget` of
exactly what it does not keep (nothing while `hold` is set, or while the appliance's audited
evidence names a suspect snapshot no review cleared); then `prune` when something was
forgotten. Each is a run in the steward host's own history, with problems, notifications and
metrics like an appliance's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bdr.actions.check import check_repository
from bdr.actions.context import Context, recorded_run
from bdr.actions.prune import prune_repository
from bdr.actions.retention import IDS_PER_FORGET
from bdr.actions.summary import RunSummary
from bdr.errors import ExitCode, UsageError
from bdr.localtime import zone as local_zone
from bdr.restic import argv as build
from bdr.restic.messages import snapshot_list
from bdr.restic.result import require_ok
from bdr.steward import policy
from bdr.store import runs
from bdr.store import steward as seen
from bdr.store.outcomes import StewardOutcome

# Named in a forged-time warning; the rest are counted.
MAX_NAMED = 10


def picked(configured: Collection[str], names: Sequence[str], section: str, none: str) -> list[str]:
    """The `[section.*]` entries `names` picks (all of them when none is named); UsageError
    for a config without one (saying `none`) or an unknown name."""
    if not configured:
        raise UsageError(f"this config has no [{section}.*]: {none}")
    unknown = [name for name in names if name not in configured]
    if unknown:
        known = ", ".join(sorted(configured))
        raise UsageError(f"no [{section}.{unknown[0]}] (configured: {known})")
    return list(names) or list(configured)


def kept_clouds(ctx: Context, names: Sequence[str]) -> list[str]:
    """The `[steward.*]` entries `names` picks (all of them when none is named)."""
    return picked(ctx.config.steward, names, "steward", "it keeps no appliance's cloud")


def keep_cloud(ctx: Context, name: str) -> list[RunSummary]:
    """Check, then apply retention to, then prune the cloud `name`; one run each."""
    steward = ctx.config.steward[name]
    checked = check_repository(ctx, name, steward.read_data_cycle)
    if checked.status != runs.OK:
        # A repository a check found wrong is not touched: a prune could lose what is left.
        return [checked]
    retained = _retention(ctx, name)
    summaries = [checked, retained]
    outcome = retained.outcome
    if isinstance(outcome, StewardOutcome) and outcome.forgotten:
        summaries.append(prune_repository(ctx, name))
    return summaries


def _retention(ctx: Context, name: str) -> RunSummary:
    steward = ctx.config.steward[name]
    appliance = steward.appliance or name
    previous = runs.last_run(ctx.db, "steward", repository=name, statuses=(runs.OK, runs.WARNING))
    with (
        recorded_run(ctx, "steward", repository=name, subject=appliance) as record,
        ctx.lock(name, purpose=f"retention of {appliance}'s cloud"),
    ):
        env = ctx.env(name)
        now = ctx.now()
        listing = require_ok(
            ctx.restic.run(ctx.restic.args(build.snapshots), env), f"listing {name}"
        )
        listed = [
            policy.Listed(s.id, s.time.timestamp(), s.tags) for s in snapshot_list(listing.stdout)
        ]
        untrusted = policy.forged(
            listed,
            now=now,
            previous_look=previous.started_at if previous else None,
            seen_before=seen.seen_before(ctx.db, name),
            max_backup_time=steward.max_backup_time,
        )
        seen.note_seen(ctx.db, name, [s.id for s in listed], now)
        trusted = [s for s in listed if s.id not in untrusted]
        keep = policy.kept(trusted, steward.keep, now=now, zone=local_zone())
        held = steward.hold or _suspect_hold(ctx, appliance)
        doomed = [] if held else [s.id for s in trusted if s.id not in keep]
        for start in range(0, len(doomed), IDS_PER_FORGET):
            batch = doomed[start : start + IDS_PER_FORGET]
            require_ok(
                ctx.restic.run(ctx.restic.args(build.forget_ids, batch), env), f"forget in {name}"
            )
        forged = tuple(f"{sid[:8]}: {why}" for sid, why in sorted(untrusted.items()))
        record.outcome = StewardOutcome(
            listed=len(listed), forgotten=len(doomed), forged=forged, held=held
        )
        record.message = f"{len(doomed)} of {len(listed)} snapshot(s) forgotten" + (
            f"; held, nothing forgotten: {held}" if held else ""
        )
        if forged:
            record.status = runs.WARNING
            record.exit_code = int(ExitCode.PARTIAL)
            named = "; ".join(forged[:MAX_NAMED])
            more = f" and {len(forged) - MAX_NAMED} more" if len(forged) > MAX_NAMED else ""
            record.error = (
                f"{len(forged)} snapshot(s) of {appliance} with a forged time, kept and left "
                f"out of retention: {named}{more}"
            )
    return RunSummary.of(record)


def _suspect_hold(ctx: Context, appliance: str) -> str | None:
    """Why nothing may be forgotten because of the appliance's own evidence: its uploaded
    chain, as the last audit read it, names snapshots suspect of ransomware that no review
    cleared. Forgetting then could lose the last clean restore point."""
    audited = seen.audited(ctx.db, appliance) if appliance in ctx.config.audit else None
    if audited is None or not audited.suspects:
        return None
    ids = ", ".join(snapshot[:8] for snapshot in audited.suspects[:MAX_NAMED])
    return (
        f"{appliance}'s evidence names {len(audited.suspects)} suspect snapshot(s) not "
        f"cleared ({ids}): bdr suspect list on the appliance"
    )
