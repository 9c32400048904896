"""The verified snapshots of a tier: what passed drills proved, less what a listing showed gone."""

from __future__ import annotations

from bdr.store import runs, verified
from bdr.store.database import connect
from bdr.store.outcomes import DATA, PASSED, DrillOutcome


def drilled(db, snapshot: str, at: float, *, kind: str = "full", verdict: str = PASSED) -> int:
    run_id = runs.start_run(db, "drill", plan="office", repository="onsite", subject="d")
    runs.finish_run(
        db,
        run_id,
        runs.OK if verdict == PASSED else runs.FAILED,
        snapshot_id=snapshot,
        snapshot_time=at,
        outcome=DrillOutcome(drill_kind=kind, snapshot_time=at, verdict=verdict),
    )
    return run_id


def test_the_newest_passed_snapshot_is_verified_and_kept(tmp_path):
    db = connect(tmp_path)
    assert verified.newest(db, "office", "onsite") is None
    assert verified.kept(db, "office", "onsite") == ()
    drilled(db, "aaaa1111", 100.0)
    drilled(db, "bbbb2222", 200.0)
    drilled(db, "cccc3333", 300.0, verdict=DATA)
    assert verified.newest(db, "office", "onsite") == runs.LatestSnapshot("bbbb2222", 200.0)
    assert verified.kept(db, "office", "onsite") == ("bbbb2222",)
    # Another tier, another plan: nothing verified there.
    assert verified.newest(db, "office", "cloud") is None
    assert verified.kept(db, "other", "onsite") == ()


def test_a_newer_sample_keeps_the_full_drills_snapshot_too(tmp_path):
    db = connect(tmp_path)
    drilled(db, "aaaa1111", 100.0)
    drilled(db, "bbbb2222", 200.0, kind="sample")
    assert verified.newest(db, "office", "onsite").snapshot_id == "bbbb2222"
    assert verified.kept(db, "office", "onsite") == ("bbbb2222", "aaaa1111")


def test_a_listing_that_lacks_a_verified_snapshot_makes_it_gone(tmp_path):
    db = connect(tmp_path)
    drilled(db, "aaaa1111", 100.0)
    drilled(db, "bbbb2222", 200.0)
    full = ["aaaa1111" + "0" * 56, "dddd4444" + "0" * 56]  # bbbb2222 was forgotten by hand
    assert verified.note_listing(db, "office", "onsite", full, now=lambda: 500.0) == ["bbbb2222"]
    assert verified.newest(db, "office", "onsite") == runs.LatestSnapshot("aaaa1111", 100.0)
    assert verified.kept(db, "office", "onsite") == ("aaaa1111",)
    assert verified.gone(db) == [verified.Gone("onsite", "bbbb2222", 500.0)]
    # A listing of another tier says nothing of this one.
    assert verified.note_listing(db, "office", "cloud", []) == []
    assert verified.note_listing(db, "office", "onsite", []) == ["aaaa1111"]
    assert verified.newest(db, "office", "onsite") is None
    assert verified.kept(db, "office", "onsite") == ()


def test_ids_match_whole_or_short():
    assert verified.holds(["abcd1234" + "e" * 56], "abcd1234")
    assert verified.holds(["abcd1234"], "abcd1234" + "e" * 56)
    assert not verified.holds(["abcd1235" + "e" * 56], "abcd1234")
    assert not verified.holds([], "abcd1234")


def test_the_report_asks_the_same_rule_for_a_past_moment(tmp_path):
    """`newest_among` is the rule the report applies to a past month's end: a drill that ended
    later, or a snapshot noticed gone later, does not count yet; of two drills of one snapshot
    time, the later one is named."""
    db = connect(tmp_path)
    ids = []
    for ended in (1000.0, 2000.0):  # two drills of the same snapshot
        run_id = runs.start_run(db, "drill", plan="office", repository="onsite", now=lambda: 1.0)
        runs.finish_run(
            db,
            run_id,
            runs.OK,
            snapshot_id="aaaa1111",
            snapshot_time=100.0,
            outcome=DrillOutcome(drill_kind="full", snapshot_time=100.0, verdict=PASSED),
            now=lambda ended=ended: ended,
        )
        ids.append(run_id)
    history = runs.list_runs(db)

    def named(gone: list[verified.Gone], end: float) -> int | None:
        run = verified.newest_among(history, gone, "office", "onsite", end=end)
        return run.id if run is not None else None

    assert named([], 5000.0) == ids[1]
    assert named([], 1500.0) == ids[0]
    assert named([], 500.0) is None
    gone = [verified.Gone("onsite", "aaaa1111", noticed_at=3000.0)]
    assert named(gone, 5000.0) is None
    assert named(gone, 2500.0) == ids[1]
