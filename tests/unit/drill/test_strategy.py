"""Which way a drill restores, over every branch of `choose_strategy`."""

from __future__ import annotations

import pytest

from bdr.drill.strategy import Facts, Strategy, Tuning, choose_strategy

GB = 10**9


def facts(**changes: object) -> Facts:
    base: dict[str, object] = {
        "kind": "sample",
        "snapshot_id": None,
        "calibrated": True,
        "newest_bytes": GB,
        "newest_files": 1000,
        "scratch_free": 10 * GB,
    }
    base.update(changes)
    return Facts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # A calibrated sample of the newest snapshot: chosen from the live tree.
        ({}, Strategy.LIVE_SAMPLE),
        ({"newest_files": 2_000_000}, Strategy.LIVE_SAMPLE),
        ({"newest_files": 2_000_001}, Strategy.LIVE_SAMPLE_SUBTREES),
        ({"newest_files": None}, Strategy.LIVE_SAMPLE_SUBTREES),
        # A sample does not care whether all of it fits: only its share is restored.
        ({"scratch_free": 0}, Strategy.LIVE_SAMPLE),
        # No backup of the newest snapshot is known: nothing says what the live tree was.
        ({"newest_bytes": None, "newest_files": None}, Strategy.LIST_THEN_RESTORE),
        # An older snapshot has no live tree to stand in for it.
        ({"snapshot_id": "1a2b3c4d", "newest_bytes": None}, Strategy.LIST_THEN_RESTORE),
        # An uncalibrated sample restores everything, beside its listing when it fits.
        ({"calibrated": False}, Strategy.RESTORE_WHILE_LISTING),
        ({"calibrated": False, "scratch_free": GB}, Strategy.RESTORE_WHILE_LISTING),
        ({"calibrated": False, "scratch_free": GB - 1}, Strategy.LIST_THEN_RESTORE),
        ({"calibrated": False, "newest_bytes": None}, Strategy.LIST_THEN_RESTORE),
        # A full drill: the same, whether or not its tier is calibrated.
        ({"kind": "full"}, Strategy.RESTORE_WHILE_LISTING),
        ({"kind": "full", "calibrated": False}, Strategy.RESTORE_WHILE_LISTING),
        ({"kind": "full", "scratch_free": 1}, Strategy.LIST_THEN_RESTORE),
        (
            {"kind": "full", "snapshot_id": "1a2b3c4d", "newest_bytes": None},
            Strategy.LIST_THEN_RESTORE,
        ),
    ],
)
def test_the_way_a_drill_restores(changes: dict[str, object], expected: Strategy):
    assert choose_strategy(facts(**changes), Tuning()) is expected


def test_the_threshold_of_a_large_snapshot_is_the_contexts():
    assert choose_strategy(facts(newest_files=101), Tuning(early_listing_max_files=100)) is (
        Strategy.LIVE_SAMPLE_SUBTREES
    )
