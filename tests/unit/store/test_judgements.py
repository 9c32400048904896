"""The verdicts in the history: which suspect snapshots are open, and where clean ends."""

from dataclasses import replace

from bdr.store import judgements, runs, verified
from bdr.store.database import connect
from bdr.store.outcomes import DrillOutcome

CLEAN = judgements.Judgement(
    plan="office", repository="local", snapshot_id="c" * 64, snapshot_time=100.0, run_id=1,
    judged_at=100.0, suspect=False, signals=(), total=10, previous_total=10, new=0, changed=1,
    deleted=0, renamed=0, moved=0, patterns_version="t",
)  # fmt: skip


def judged(snapshot: str, when: float, *, suspect: bool) -> judgements.Judgement:
    return replace(CLEAN, snapshot_id=snapshot * 64, snapshot_time=when, suspect=suspect)


def drilled(db, snapshot: str, taken: float) -> None:
    run_id = runs.start_run(db, "drill", plan="office", repository="local", subject="d")
    outcome = DrillOutcome(drill_kind="full", verdict="passed", snapshot_time=taken)
    runs.finish_run(db, run_id, runs.OK, snapshot_id=snapshot * 8, outcome=outcome,
                    snapshot_time=taken)  # fmt: skip


def test_clean_ends_at_the_oldest_open_suspect_and_moves_when_it_is_cleared(tmp_path):
    db = connect(tmp_path)
    for snapshot, when, suspect in (("1", 100, False), ("2", 200, True), ("3", 300, False),
                                    ("4", 400, True)):  # fmt: skip
        judgements.record(db, judged(snapshot, when, suspect=suspect))
        drilled(db, snapshot, when)
    assert judgements.boundary(db, "office") == 200
    assert [j.snapshot_id[0] for j in judgements.open_suspects(db)] == ["2", "4"]
    assert verified.last_clean(db, "office", "local").snapshot_id == "1" * 8
    assert verified.newest(db, "office", "local").snapshot_id == "4" * 8
    (second,) = judgements.matching(db, "2222")
    judgements.set_review(db, second, judgements.CLEARED, "the archive job", 500.0)
    assert judgements.boundary(db, "office") == 400
    assert verified.last_clean(db, "office", "local").snapshot_id == "3" * 8
    # The cleared one is part of the plan's normal again; the open one is not.
    assert [j.snapshot_id[0] for j in judgements.recent_clean(db, "office", "local", 10)] == [
        "3", "2", "1",
    ]  # fmt: skip
    (fourth,) = judgements.matching(db, "4")
    judgements.set_review(db, fourth, judgements.CONFIRMED, "", 600.0)
    assert judgements.boundary(db, "office") == 400, "a confirmed suspect stays open"
    assert judgements.boundary(db, "other") is None


def test_a_short_id_matches_by_its_start_only(tmp_path):
    db = connect(tmp_path)
    judgements.record(db, judged("a", 1, suspect=True))
    judgements.record(db, replace(judged("a", 2, suspect=True), snapshot_id="ab" + "0" * 62))
    assert len(judgements.matching(db, "a")) == 2
    assert len(judgements.matching(db, "aa")) == 1
    assert judgements.matching(db, "%") == []


def test_restics_full_id_finds_the_short_one_a_backup_recorded(tmp_path):
    db = connect(tmp_path)
    judgements.record(db, replace(judged("a", 1, suspect=True), snapshot_id="ab12cd34"))
    assert [j.snapshot_id for j in judgements.matching(db, "ab12cd34" + "e" * 56)] == ["ab12cd34"]
    assert [j.repository for j in judgements.of_plan(db, "office")] == ["local"]
    assert judgements.matching(db, "ab12cd35" + "e" * 56) == []
