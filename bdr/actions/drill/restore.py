"""The restore phase of a drill: what it restores (all of a snapshot, a sample, a calibrating
full restore), how (listing first, or listing beside the restore), and what it leaves for
verification: the files restored as the snapshot's listing names them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from bdr.actions import scratch as scratch_area
from bdr.actions.context import Context
from bdr.actions.drill import live
from bdr.actions.drill.steps import (
    Job,
    Restored,
    SpooledLines,
    describe_restore,
    expected_canary,
    list_now,
    list_snapshot,
    ls_args,
    make_room,
    restore_errors,
    room_for_listing,
    same_snapshot,
    sample_seed,
    say_calibrating,
    sizes,
    spool_file,
    spooled_listing,
    tier_calibrated,
)
from bdr.config.model import Drill
from bdr.config.ownership import backup_set, canary_path
from bdr.config.units import format_size
from bdr.drill.sampling import (
    ARGV_BUDGET,
    Sample,
    choose_clusters,
    include_batches,
    sample_share,
)
from bdr.drill.strategy import Facts, Strategy, choose_strategy
from bdr.fsnames import json_name
from bdr.fsutil import free_bytes
from bdr.restic import argv as build
from bdr.restic.environment import ResticEnv
from bdr.restic.gateway import Running
from bdr.restic.messages import (
    FileListing,
    Node,
    Snapshot,
    ls_nodes,
    ls_nodes_where,
)
from bdr.restic.patterns import selector
from bdr.restic.result import Result
from bdr.store import backups


def restore_phase(job: Job, snapshot_id: str | None) -> Restored:
    """Restore what the drill proves, under bdr's lock of the repository: the newest snapshot
    (or `snapshot_id`) whole, or a sample of it, the way `choose_strategy` says."""
    ctx, drill = job.ctx, job.drill
    with (
        ctx.lock(drill.repository, purpose=f"drill {job.name}", exclusive=False),
        room_for_listing(ctx),
    ):
        env = ctx.env(drill.repository)
        made = backups.newest(ctx.db, drill.plan) if snapshot_id is None else None
        facts = Facts(
            kind=drill.kind,
            snapshot_id=snapshot_id,
            # Asked once: the answer decides both whether a sample drill runs full (to
            # calibrate) and how its projection is made.
            calibrated=drill.kind == "sample" and tier_calibrated(ctx, drill.repository),
            newest_bytes=made.run.bytes_processed if made is not None else None,
            newest_files=made.run.files_processed if made is not None else None,
            scratch_free=free_bytes(ctx.config.appliance.scratch_dir),
        )
        strategy = choose_strategy(facts, ctx.tuning)
        if strategy in (Strategy.LIVE_SAMPLE, Strategy.LIVE_SAMPLE_SUBTREES):
            assert made is not None
            return _sample_of_newest(job, env, made, early=strategy is Strategy.LIVE_SAMPLE)
        if strategy is Strategy.RESTORE_WHILE_LISTING:
            assert facts.newest_bytes is not None
            return _restore_newest_while_listing(job, env, facts.newest_bytes)
        # A full drill's files wait on disk, not in memory, until they are verified.
        listed, files = list_now(
            ctx, drill, snapshot_id or "latest", env, spool=drill.kind == "full"
        )
        return _list_then_restore(job, snapshot_id, env, facts.calibrated, listed, files)


def _restore_newest_while_listing(job: Job, env: ResticEnv, estimate: int) -> Restored:
    """Restore all of the plan's newest snapshot (a full drill, or a sample drill calibrating
    its tier) while it is listed: the listing (and its key derivation) is not paid for before
    the restore starts, and a calibrating drill is measured as the full drills it stands for."""
    if job.drill.kind == "sample":
        say_calibrating(job)
    files = spooled_listing(job.ctx)
    listing = job.ctx.restic.start(ls_args(job.ctx, job.drill, "latest"), env, on_line=files.feed)
    return _restore_while_listing(job, env, estimate, listing, files)


def _sample_of_newest(
    job: Job, env: ResticEnv, made: backups.BackupRun, *, early: bool
) -> Restored:
    """Restore a sample of the plan's newest snapshot (`made` by its backup) in a calibrated
    tier.

    With `early`, the snapshot's listing starts first: its key derivation, index load and walk
    of the snapshot (restic 0.14 reads all of its trees for any listing) run on the other core
    while bdr walks the live tree and chooses the sample from it, and the restore of the sample
    starts as soon as it is chosen. Otherwise (a large snapshot) it is listed once the sample is
    chosen, the sample's subtrees only. When the live tree cannot stand in for the snapshot's
    (or the snapshot holds too little of the sample chosen from it), the sample is chosen from
    the whole listing instead.
    """
    ctx, drill = job.ctx, job.drill
    # The listing's lines wait on disk until the sample's are read from them: a million-file
    # snapshot's would take some 400 MB held.
    spool = SpooledLines(spool_file(ctx))
    listing = (
        ctx.restic.start(ls_args(ctx, drill, "latest"), env, on_line=spool.feed) if early else None
    )
    try:
        chosen = _choose_from_live(ctx, drill, made)
        if chosen is not None:
            within: tuple[str, ...] = ()
            if listing is None:
                within = _subtrees(chosen)
                listing = ctx.restic.start(
                    ls_args(ctx, drill, "latest", within=within), env, on_line=spool.feed
                )
            sampled = _sample_while_listing(job, env, chosen, listing, spool, whole=not within)
            if sampled is not None:
                return sampled
            scratch_area.remove(job.scratch, job.record.id)
            if within:
                listing = None  # it named the sample's subtrees: the snapshot is listed whole
        if listing is not None:
            listed = listing.result()
            files = FileListing.of(spool)
        else:
            listed, files = list_now(ctx, drill, "latest", env)
        return _list_then_restore(job, None, env, True, listed, files)
    except BaseException:
        if listing is not None:
            listing.stop()
        raise
    finally:
        spool.close()


def _list_then_restore(
    job: Job,
    snapshot_id: str | None,
    env: ResticEnv,
    calibrated: bool,
    listed: Result,
    listing: FileListing,
) -> Restored:
    """From the snapshot's listing (`listed`, its files in `listing`), choose what to restore
    (a sample, or all when a sample's tier must calibrate), check it fits the scratch area,
    then restore it."""
    ctx, name, drill, record, scratch = job.ctx, job.name, job.drill, job.record, job.scratch
    snapshot = list_snapshot(ctx, drill, snapshot_id or "latest", listed, listing.head)
    record.snapshot_id = snapshot.short_id
    totals = (listing.count, listing.bytes)
    canary = expected_canary(ctx, drill.plan, snapshot)
    sample: Sample | None = None
    calibrating = drill.kind == "sample" and not calibrated
    if calibrating and free_bytes(ctx.config.appliance.scratch_dir) < listing.bytes:
        calibrating = False  # it cannot: its samples' projections say "uncalibrated"
    selection: FileListing | list[Node] = listing
    chosen = totals
    if calibrating:
        say_calibrating(job)
    elif drill.kind == "sample":
        assert drill.sample is not None
        sample = choose_clusters(
            listing.files,
            sample_seed(snapshot),
            sample_share(drill.sample, listing.bytes),
            canary_path=canary.path,
        )
        selection = list(sample.files)
        chosen = sizes(selection)
    count, size = chosen
    describe_restore(record, snapshot, canary, totals, chosen)
    make_room(ctx, size, f"restoring {count} files of snapshot {snapshot.short_id}")
    scratch_area.create(ctx.config.appliance.scratch_dir, name, record.id)
    ctx.say(
        f"drill {name}: restoring {count} files ({format_size(size)}) of snapshot "
        f"{snapshot.short_id} from {drill.repository}"
    )
    started = ctx.monotonic()
    # A full drill restores everything in one call; a sample its few patterns (escaped names,
    # so `weird[1].txt` does not restore `weird1.txt`), in one call unless they are very many.
    batches = include_batches(list(sample.patterns)) if sample is not None else [[]]
    results = [
        ctx.restic.run(
            ctx.restic.args(build.restore, snapshot.id, str(scratch), includes=batch), env
        )
        for batch in batches
    ]
    seconds = ctx.monotonic() - started
    errors = restore_errors(ctx, snapshot, results)
    return Restored(snapshot, canary, selection, sample, calibrated, errors, seconds)


def _restore_while_listing(
    job: Job, env: ResticEnv, estimate: int, listing: Running, listed: FileListing
) -> Restored:
    """Restore the plan's newest snapshot with its `listing` running beside the restore, its
    files read into `listed` as restic prints them."""
    ctx, name, drill, record = job.ctx, job.name, job.drill, job.record
    scratch_area.create(ctx.config.appliance.scratch_dir, name, record.id)
    ctx.say(
        f"drill {name}: restoring the newest snapshot of plan {drill.plan} "
        f"({format_size(estimate)} when it was backed up) from {drill.repository}"
    )
    snapshot, results, seconds = _beside_listing(job, env, [[]], listing, listed.head)
    canary = expected_canary(ctx, drill.plan, snapshot)
    totals = (listed.count, listed.bytes)
    describe_restore(record, snapshot, canary, totals, totals)
    errors = restore_errors(ctx, snapshot, results)
    return Restored(snapshot, canary, listed, None, False, errors, seconds)


def _beside_listing(
    job: Job, env: ResticEnv, batches: list[list[str]], listing: Running, head: Iterable[str]
) -> tuple[Snapshot, list[Result], float]:
    """Restore the plan's newest snapshot into scratch, all of it or one restic call per batch
    of include patterns, while `listing` (started by the caller) lists it. Return the listed
    snapshot (from `head`, the listing's first lines, read once it is done), the restores'
    results and their wall time."""
    ctx, drill, scratch = job.ctx, job.drill, job.scratch
    started = ctx.monotonic()
    try:
        results = [
            ctx.restic.run(
                ctx.restic.args(
                    build.restore, "latest", str(scratch), includes=batch, plan=drill.plan
                ),
                env,
            )
            for batch in batches
        ]
    except BaseException:
        listing.stop()
        raise
    seconds = ctx.monotonic() - started
    # The listing's own failure (no snapshot, a damaged index) says more than the restore's.
    listed = listing.result()
    snapshot = list_snapshot(ctx, drill, "latest", listed, head)
    job.record.snapshot_id = snapshot.short_id
    for result in results:
        same_snapshot(drill, snapshot, result)
    return snapshot, results, seconds


@dataclass(frozen=True)
class _Chosen:
    """A sample chosen from the live tree, before the snapshot is listed."""

    sample: Sample
    tree: live.LiveTree


def _choose_from_live(ctx: Context, drill: Drill, made: backups.BackupRun | None) -> _Chosen | None:
    """Choose the sample of the plan's newest snapshot from the live sources its backup (`made`,
    the plan's newest) read; None when they cannot stand in for the snapshot's tree (not all
    there now: a hook mounts them, or the backup's record is gone), and the snapshot is listed
    first."""
    assert drill.sample is not None
    if made is None or made.run.bytes_processed is None or not made.outcome.sources:
        return None
    sources = [source.backed_up for source in made.outcome.sources]
    if not all(os.path.lexists(source) for source in sources):
        return None
    plan = ctx.config.plans[drill.plan]
    tree = live.walk(sources, backup_set(ctx.config, drill.plan, plan).excludes)
    if not tree.files:
        return None
    canary = json_name(
        made.outcome.canary_path or canary_path(ctx.config.appliance.state_dir, drill.plan)
    )
    # The canary's size is of no account to the sample: it is always part of it.
    files = [*tree.files, Node(canary, "file", 0, live.UNKNOWN_TIME)]
    assert made.run.snapshot_id is not None
    sample = choose_clusters(
        files,
        made.run.snapshot_id[:8],
        sample_share(drill.sample, made.run.bytes_processed),
        canary_path=canary,
    )
    return _Chosen(sample, tree)


def _subtrees(chosen: _Chosen) -> tuple[str, ...]:
    """The sample's subtrees as a listing's command line names them (a name that is not UTF-8
    with its own bytes); none, the whole snapshot, when no shorter list names them all."""
    within = [chosen.tree.on_disk(root) for root in chosen.sample.roots]
    if "/" in within or sum(len(os.fsencode(path)) + 1 for path in within) > ARGV_BUDGET:
        return ()
    return tuple(within)


def _sample_while_listing(
    job: Job,
    env: ResticEnv,
    chosen: _Chosen,
    listing: Running,
    lines: SpooledLines,
    *,
    whole: bool,
) -> Restored | None:
    """Restore a sample of the plan's newest snapshot chosen from the live tree while
    `listing` lists the snapshot (`whole`, or the sample's subtrees) into `lines`; the files
    the patterns select in that listing are what the drill restored and verifies. None when
    the snapshot holds less than half of the sample's files: the live tree changed too much
    since the backup to choose it (folders renamed or added), and the snapshot's listing
    must."""
    ctx, name, drill, record = job.ctx, job.name, job.drill, job.record
    sample = chosen.sample
    make_room(ctx, sample.bytes, f"restoring a sample of {len(sample.files)} files")
    scratch_area.create(ctx.config.appliance.scratch_dir, name, record.id)
    ctx.say(
        f"drill {name}: restoring a sample of about {len(sample.files)} files "
        f"({format_size(sample.bytes)} in the live tree) of the newest snapshot of plan "
        f"{drill.plan} from {drill.repository}"
    )
    snapshot, results, seconds = _beside_listing(
        job, env, include_batches(list(sample.patterns)), listing, lines
    )
    files = [
        node for node in ls_nodes_where(lines, selector(sample.patterns)) if node.type == "file"
    ]
    canary = expected_canary(ctx, drill.plan, snapshot)
    errors = restore_errors(ctx, snapshot, results)
    held = sum(1 for node in files if node.path != canary.path)
    chose = sum(1 for node in sample.files if node.path != canary.path)
    if not errors and 2 * held < chose:
        ctx.say(
            f"drill {name}: snapshot {snapshot.short_id} holds {held} of the {chose} files "
            "chosen from the live tree, which changed since the backup; choosing the sample "
            "from the snapshot's listing"
        )
        return None
    totals = _snapshot_totals(ctx, drill, env, snapshot, lines if whole else None)
    describe_restore(record, snapshot, canary, totals, sizes(files))
    listed = Sample(sample.patterns, tuple(files), sample.roots)
    return Restored(snapshot, canary, files, listed, True, errors, seconds)


def _snapshot_totals(
    ctx: Context, drill: Drill, env: ResticEnv, snapshot: Snapshot, lines: Iterable[str] | None
) -> tuple[int, int]:
    """Return the files and bytes of the whole snapshot: as its backup counted them, or, when
    no backup run of it is known, from its whole listing (`lines`, or one made now)."""
    made = backups.for_snapshot(ctx.db, drill.plan, [snapshot.id, snapshot.original or ""])
    if (
        made is not None
        and made.run.files_processed is not None
        and made.run.bytes_processed is not None
    ):
        return made.run.files_processed, made.run.bytes_processed
    if lines is None:
        listed, listing = list_now(ctx, drill, snapshot.id, env, spool=True)
        list_snapshot(ctx, drill, snapshot.id, listed, listing.head)
        listing.close()
        return listing.count, listing.bytes
    return sizes(node for node in ls_nodes(lines) if node.type == "file")
