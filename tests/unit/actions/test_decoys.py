"""Decoys: planted only where their names are free, judged only in the roots backed up today,
removed only as bdr wrote them."""

from pathlib import Path

from bdr.actions import decoys
from bdr.detection.decoys import DECOYS


def test_planted_where_free_and_a_touched_one_is_named_once(tmp_path: Path):
    state, share = tmp_path / "state", tmp_path / "share"
    share.mkdir()
    (share / "!Archive index 2019.csv").write_text("the client's own file\n")
    decoys.plant(state, "office", [str(share)])
    assert (share / "!Archive index 2019.csv").read_text() == "the client's own file\n"
    planted = sorted(p.name for p in share.iterdir())
    assert planted == sorted(DECOYS)
    assert decoys.check(state, "office", [str(share)]) == ()
    touched = share / "~Archive board minutes.docx"
    touched.write_bytes(b"encrypted")
    assert decoys.check(state, "office", [str(share)]) == (str(touched),)
    assert decoys.check(state, "office", [str(share)]) == (), "named once, then forgotten"


def test_a_root_missing_today_is_not_judged(tmp_path: Path):
    state, share = tmp_path / "state", tmp_path / "nas"
    share.mkdir()
    decoys.plant(state, "office", [str(share)])
    for path in share.iterdir():
        path.unlink()  # as an unmounted share shows it
    assert decoys.check(state, "office", []) == ()
    assert len(decoys.check(state, "office", [str(share)])) == 3


def test_turned_off_removes_only_what_bdr_wrote_unchanged(tmp_path: Path):
    state, share = tmp_path / "state", tmp_path / "share"
    share.mkdir()
    decoys.plant(state, "office", [str(share)])
    edited = share / "~Archive scanned contracts.txt"
    edited.write_text("a user wrote here\n")
    decoys.remove(state, "office")
    assert [p.name for p in share.iterdir()] == [edited.name]
    assert not (state / "decoys" / "office.json").exists()


def test_a_root_that_is_a_file_or_read_only_gets_none(tmp_path: Path):
    state = tmp_path / "state"
    single = tmp_path / "ledger.db"
    single.write_text("x")
    decoys.plant(state, "office", [str(single), str(tmp_path / "gone")])
    assert decoys.check(state, "office", [str(single)]) == ()
