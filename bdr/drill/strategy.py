"""How a drill restores: chosen from what is known before anything runs.

Each way was chosen by benchmark (bench/samples.py): the listing of a snapshot costs a key
derivation and a walk of all its trees, so a drill starts it as early as it can, beside the
restore, and holds as little of it as it must.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Strategy(enum.Enum):
    # A sample of the newest snapshot chosen from the live tree, restored while the whole
    # snapshot is listed beside it (the listing started before the sample was chosen).
    LIVE_SAMPLE = "live-sample"
    # The same, for a very large snapshot: listed once the sample is chosen, its subtrees only.
    LIVE_SAMPLE_SUBTREES = "live-sample-subtrees"
    # All of the newest snapshot, restored while it is listed beside the restore.
    RESTORE_WHILE_LISTING = "restore-while-listing"
    # The snapshot listed first, then what to restore chosen from the listing and restored.
    LIST_THEN_RESTORE = "list-then-restore"


@dataclass(frozen=True)
class Tuning:
    """The thresholds the strategies turn on (a field of the action context: tests set them)."""

    # Up to this many files (as its backup counted them), a sample drill's listing of the
    # whole snapshot starts before the sample is chosen, beside bdr's walk of the live tree;
    # above, it starts once the sample is chosen and names only the sample's subtrees, which
    # restic walks alone where they are a small part of a deep tree. Either listing waits on
    # disk, not in memory. Measured on restic 0.14 (bench/scale.py), a million files in
    # 10,000 folders of one share: 30 s the early way, 36 s the other (restic's listing of a
    # folder loads every sibling folder's tree, and the sample's name ranges span the share).
    early_listing_max_files: int = 2_000_000


@dataclass(frozen=True)
class Facts:
    """What is known before the drill restores anything."""

    kind: str  # "full" or "sample"
    snapshot_id: str | None  # asked for by the technician; None: the plan's newest
    calibrated: bool  # the tier has a full drill whose data was good (a sample may run)
    newest_bytes: int | None  # the newest snapshot's size, as its backup recorded it
    newest_files: int | None  # and its files
    scratch_free: int


def choose_strategy(facts: Facts, tuning: Tuning) -> Strategy:
    """The way to restore. A sample runs only in a calibrated tier, of the newest snapshot
    (an older one has no live tree to stand in for it); anything else restores all of it
    (a sample drill then calibrates its tier), beside its listing when the backup's record
    says it fits the scratch area, else after listing it."""
    newest = facts.snapshot_id is None
    if facts.kind == "sample" and facts.calibrated and newest:
        if facts.newest_bytes is None:  # no backup of it known: no live tree to choose from
            return Strategy.LIST_THEN_RESTORE
        if facts.newest_files is not None and facts.newest_files <= tuning.early_listing_max_files:
            return Strategy.LIVE_SAMPLE
        return Strategy.LIVE_SAMPLE_SUBTREES
    if newest and facts.newest_bytes is not None and facts.newest_bytes <= facts.scratch_free:
        return Strategy.RESTORE_WHILE_LISTING
    return Strategy.LIST_THEN_RESTORE
