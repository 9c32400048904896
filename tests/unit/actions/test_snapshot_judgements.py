"""`bdr snapshots`: each snapshot's ransomware judgement, a copy's by its original."""

from dataclasses import replace
from datetime import UTC, datetime

from bdr.actions.snapshots import SnapshotRow, _judged
from bdr.restic.messages import Snapshot
from bdr.store import judgements
from bdr.store.database import connect
from tests.unit.store.test_judgements import judged


def test_a_copy_in_another_tier_is_judged_as_its_original(tmp_path):
    db = connect(tmp_path)
    judgements.record(db, replace(judged("a", 100, suspect=True), snapshot_id="aaaaaaaa"))
    judgements.record(db, replace(judged("b", 50, suspect=False), snapshot_id="bbbbbbbb"))
    known = {j.snapshot_id[:8]: j for j in judgements.of_plan(db, "office")}

    def row(repository: str, sid: str, when: float, original: str | None = None) -> SnapshotRow:
        snapshot = Snapshot(
            sid, sid[:8], datetime.fromtimestamp(when, UTC), (), "host", (), original
        )
        return SnapshotRow(repository, "office", snapshot)

    assert _judged(row("cloud", "c" * 64, 100, "aaaaaaaa" + "0" * 56), 100, known).judged == (
        "suspect"
    )
    assert _judged(row("cloud", "d" * 64, 50, "bbbbbbbb" + "0" * 56), 100, known).judged == "clean"
    assert _judged(row("cloud", "e" * 64, 200), 100, known).judged == "after suspect"
    # The same short id in another tier, not a copy of it, is not that judgement.
    assert _judged(row("cloud", "bbbbbbbb" + "f" * 56, 50), 100, known).judged == ""
