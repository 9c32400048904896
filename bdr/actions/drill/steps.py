"""The steps every way of restoring a drill shares: listing the snapshot, checking the
scratch area has room, describing what is restored, and reading restic's complaints."""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from bdr.actions import scratch as scratch_area
from bdr.actions.context import Context, RunRecord
from bdr.actions.drill.verify import ExpectedCanary
from bdr.config.model import Drill
from bdr.config.ownership import canary_path
from bdr.config.units import format_size
from bdr.drill.sampling import (
    Sample,
)
from bdr.errors import BdrError, UsageError
from bdr.fsnames import json_name
from bdr.fsutil import free_bytes
from bdr.restic import argv as build
from bdr.restic.environment import ResticEnv
from bdr.restic.messages import (
    FileListing,
    Node,
    Snapshot,
    ls_snapshot,
    restored_snapshot,
)
from bdr.restic.outcome import Outcome
from bdr.restic.result import Result, require_ok
from bdr.store import backups, drills
from bdr.store.outcomes import DrillOutcome


class DataFinding(BdrError):
    """The repository could not give back the snapshot's data: a finding, not a failure to run."""


def outcome_of(record: RunRecord) -> DrillOutcome:
    assert isinstance(record.outcome, DrillOutcome)
    return record.outcome


@dataclass(frozen=True)
class Job:
    """One run of a drill: what its steps share."""

    ctx: Context
    name: str
    drill: Drill
    record: RunRecord
    scratch: Path


@dataclass
class Restored:
    """What the restore phase leaves for verification."""

    snapshot: Snapshot
    canary: ExpectedCanary
    # The files restored, all of them or the sample's, in restic's order: a full drill's
    # spooled listing, read back as it is verified.
    selection: FileListing | list[Node]
    sample: Sample | None
    calibrated: bool
    errors: list[str]  # restic's complaints about the data
    seconds: float

    def close(self) -> None:
        if isinstance(self.selection, FileListing):
            self.selection.close()


def make_room(ctx: Context, size: int, what: str) -> None:
    """Raise unless the scratch area has `size` bytes free for `what`."""
    free = free_bytes(ctx.config.appliance.scratch_dir)
    if free < size:
        # The trees of finished drills may still be on their way out: take them out now.
        scratch_area.clean_up_dead(ctx.config, ctx.db)
        free = free_bytes(ctx.config.appliance.scratch_dir)
    if free < size:
        raise BdrError(
            f"scratch area {ctx.config.appliance.scratch_dir} has {format_size(free)} free; "
            f"{what} needs {format_size(size)}"
        )


def describe_restore(
    record: RunRecord,
    snapshot: Snapshot,
    canary: ExpectedCanary,
    totals: tuple[int, int],
    chosen: tuple[int, int],
) -> None:
    """Record what the drill restores (`chosen`: files, bytes), of which snapshot of `totals`
    (files, bytes)."""
    record.outcome = replace(
        outcome_of(record),
        snapshot_time=snapshot.time.timestamp(),
        canary_path=canary.path,
        full_files=totals[0],
        full_bytes=totals[1],
        files=chosen[0],
        bytes=chosen[1],
    )


def sizes(files: Iterable[Node]) -> tuple[int, int]:
    """The count of `files` and their bytes (read once: a listing's may be many)."""
    count = total = 0
    for node in files:
        count += 1
        total += node.size
    return count, total


def spooled_listing(ctx: Context) -> FileListing:
    """A listing whose files wait on disk, not in memory (`spool_file`)."""
    return FileListing(spool_file(ctx))


def spool_file(ctx: Context) -> IO[str]:
    """An unnamed file in the scratch area: gone with the process whatever ends it."""
    scratch_dir = ctx.config.appliance.scratch_dir
    scratch_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogateescape", dir=scratch_dir)


@contextmanager
def room_for_listing(ctx: Context) -> Iterator[None]:
    """Turn a scratch area that filled up under a spooled listing into the error that says so
    (restic's own restore running out of space is read from its output, `restore_errors`)."""
    try:
        yield
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        scratch_dir = ctx.config.appliance.scratch_dir
        raise BdrError(
            f"scratch area {scratch_dir} ran out of space keeping the snapshot's listing "
            f"({format_size(free_bytes(scratch_dir))} free now)"
        ) from None


class SpooledLines:
    """restic's output lines, written as they come to a `spool_file`, unparsed: the thread
    that reads them takes the interpreter from the drill's walk of the live tree as little as
    it can. Iterating reads them back from the first, once restic is done."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file

    def feed(self, line: str) -> None:
        self._file.write(line if line.endswith("\n") else line + "\n")

    def __iter__(self) -> Iterator[str]:
        self._file.flush()
        self._file.seek(0)
        # Not `yield from`: a reader that stops early would close the file with the generator.
        for line in self._file:  # noqa: UP028
            yield line

    def close(self) -> None:
        self._file.close()


def restore_errors(ctx: Context, snapshot: Snapshot, results: list[Result]) -> list[str]:
    """Return restic's complaints about the restored data; raise for a restore that failed."""
    errors: list[str] = []
    for result in results:
        if result.outcome is Outcome.NO_SPACE:
            raise BdrError(
                f"scratch area {ctx.config.appliance.scratch_dir} ran out of space while "
                f"restoring snapshot {snapshot.short_id} "
                f"({format_size(free_bytes(ctx.config.appliance.scratch_dir))} free now): "
                f"{result.error_text()}"
            )
        # restic read the repository but could not restore the data as it was saved
        # (a damaged pack, a failed --verify): that is a finding about the data, and the
        # verification says which files it touched.
        if result.outcome in (Outcome.FAILED, Outcome.DAMAGED):
            errors.append(damage_text(ctx, result))
        else:
            require_ok(result, f"restore of snapshot {snapshot.short_id}")
    return errors


def ls_args(
    ctx: Context, drill: Drill, what: str, *, within: Sequence[str] = ()
) -> tuple[str, ...]:
    """The listing of snapshot `what` ("latest": the plan's newest) with its nodes (`within`:
    only those subtrees)."""
    return ctx.restic.args(build.ls, what, plan=drill.plan, within=within)


def list_now(
    ctx: Context, drill: Drill, what: str, env: ResticEnv, *, spool: bool = False
) -> tuple[Result, FileListing]:
    """List snapshot `what` now; return restic's result and the files, read as restic prints
    them (a listing's lines are not all held at once; with `spool`, its files not either)."""
    listing = spooled_listing(ctx) if spool else FileListing()
    listed = ctx.restic.run(ls_args(ctx, drill, what), env, on_line=listing.feed, keep_stdout=False)
    return listed, listing


def list_snapshot(
    ctx: Context, drill: Drill, what: str, listed: Result, head: Iterable[str]
) -> Snapshot:
    """Return the listed snapshot (described in `head`, the listing's first lines); raise when
    the listing failed."""
    if listed.outcome is Outcome.DAMAGED:
        raise DataFinding(
            f"snapshot {what} of plan {drill.plan} cannot be read from {drill.repository}: "
            f"{damage_text(ctx, listed)}"
        )
    require_ok(listed, f"listing snapshot {what} of plan {drill.plan} in {drill.repository}")
    snapshot = ls_snapshot(head)
    if snapshot is None:
        raise BdrError(f"plan {drill.plan} has no snapshot in {drill.repository} to drill")
    if build.plan_tag(drill.plan) not in snapshot.tags:
        raise UsageError(f"snapshot {snapshot.short_id} is not a snapshot of plan {drill.plan}")
    return snapshot


def damage_text(ctx: Context, result: Result) -> str:
    """restic's own words about the damage, and what the technician can do about it."""
    text = result.error_text()
    if result.outcome is Outcome.DAMAGED:
        return (
            f"{text} (the repository is damaged: try {ctx.restic.features.repair_index_command}, "
            "then bdr check)"
        )
    return text


def expected_canary(ctx: Context, plan: str, snapshot: Snapshot) -> ExpectedCanary:
    """Return where the snapshot's canary is and its hash, from the backup run that made it."""
    made = backups.for_snapshot(ctx.db, plan, [snapshot.id, snapshot.original or ""])
    recorded = made.outcome if made else None
    path = (recorded.canary_path if recorded else None) or canary_path(
        ctx.config.appliance.state_dir, plan
    )
    return ExpectedCanary(json_name(path), recorded.canary_sha256 if recorded else None)


def tier_calibrated(ctx: Context, repository: str) -> bool:
    """Whether the repository's history holds a full drill whose data was good: what tells a
    sample's projection how this repository and this appliance restore."""
    return any(
        past.outcome.drill_kind == "full" and past.outcome.data_good and past.outcome.phases
        for past in drills.history(ctx.db, repository=repository, limit=200)
    )


def same_snapshot(drill: Drill, listed: Snapshot, restore: Result) -> None:
    """Raise when a restore of "latest" restored another snapshot than the listing's "latest"."""
    restored_id = restored_snapshot(restore.stdout)
    if restored_id is not None and not listed.id.startswith(restored_id):
        # Both resolve "latest" under bdr's lock of the repository: only someone else's restic
        # writing to it could make them differ.
        raise BdrError(
            f"{drill.repository} changed during the drill: restic restored snapshot "
            f"{restored_id[:8]} and listed {listed.short_id}; run the drill again"
        )


def sample_seed(snapshot: Snapshot) -> str:
    """What a sample of `snapshot` is seeded with: the id of the backup's own snapshot, which a
    copy on another tier keeps as its original."""
    return (snapshot.original or snapshot.id)[:8]


def say_calibrating(job: Job) -> None:
    """Say and record that this sample drill restores everything, to calibrate its tier."""
    job.ctx.say(
        f"drill {job.name}: no full drill of {job.drill.repository} yet; this one restores "
        "everything, to calibrate the projections of the samples that follow"
    )
    job.record.outcome = replace(outcome_of(job.record), drill_kind="full")
