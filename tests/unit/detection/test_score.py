"""The verdict: one strong signal or two weak ones make a backup suspect."""

from dataclasses import replace

from bdr.detection.changes import Changes
from bdr.detection.content import Inspection
from bdr.detection.score import Facts, Rates, Settings, Summary, judge, needs_diff

SETTINGS = Settings()
QUIET = Summary(total=5000, previous_total=5000, new=0, changed=0, unmodified=5000)
NOTHING = Changes((), (), ())
# Twenty ordinary days: 1-3% of files edited, almost nothing deleted or renamed.
HISTORY = tuple(Rates(0.01 + (n % 3) * 0.01, 0.0005 * (n % 2), 0.0) for n in range(20))


def facts(**kwargs) -> Facts:
    return Facts(**{"summary": QUIET, "removed": NOTHING, "history": HISTORY, **kwargs})


def test_an_unchanged_backup_is_clean():
    verdict = judge(facts(), SETTINGS)
    assert not verdict.suspect and verdict.signals == ()


def test_one_ransom_note_is_enough():
    note = "/srv/share/HOW_TO_DECRYPT.txt"
    verdict = judge(facts(name_hits=(note,), name_hit_count=1), SETTINGS)
    assert verdict.suspect
    assert verdict.signals[0].kind == "names"
    assert verdict.signals[0].examples == (note,)
    assert "ransomware" in verdict.reason


def test_a_first_backup_is_judged_by_names_alone():
    # A share that holds ransom notes when the appliance is installed is an emergency; its
    # contents and rates have nothing to be compared with yet.
    first = facts(compared=False, name_hits=("/srv/x.locked",), name_hit_count=1)
    assert judge(first, SETTINGS).suspect
    lost = tuple(Inspection(f"/s/{n}.pdf", True, True, 7.99, False) for n in range(200))
    assert judge(facts(compared=True, inspections=lost, population=200), SETTINGS).suspect
    assert not judge(facts(compared=False, removed=None, population=0), SETTINGS).suspect


def test_a_touched_decoy_is_enough():
    verdict = judge(facts(decoys_touched=("/srv/share/!Archive index 2019.csv",)), SETTINGS)
    assert verdict.suspect and verdict.signals[0].kind == "decoy"


def test_lost_formats_count_by_their_projection_onto_every_changed_file():
    lost = tuple(Inspection(f"/s/{n}.pdf", True, True, 7.99, False) for n in range(20))
    kept = tuple(Inspection(f"/s/k{n}.pdf", True, False, 5.0, False) for n in range(180))
    # 20 of 200 sampled, drawn from 2,000 changed files: about 200 lost, an attack.
    attack = judge(facts(inspections=lost + kept, population=2000), SETTINGS)
    assert attack.suspect
    assert "about 200 changed file(s) no longer match their format" in attack.reason
    # The same 20 of 200, drawn from 200 changed files: 20 broken files, a user's.
    few = judge(facts(inspections=lost + kept, population=200), SETTINGS)
    assert not few.suspect


def test_an_onion_address_is_enough():
    note = Inspection("/s/note.txt", True, False, 4.0, True)
    assert judge(facts(inspections=(note,), population=1), SETTINGS).suspect


def test_one_weak_signal_is_an_ordinary_busy_day():
    # A software update rewrote 800 of 5,000 files: far above this plan's normal, alone.
    summary = replace(QUIET, changed=800, unmodified=4200)
    changes = Changes((), (), tuple(f"/srv/app/lib{n}.so" for n in range(800)))
    verdict = judge(facts(summary=summary, removed=changes), SETTINGS)
    assert [s.kind for s in verdict.signals] == ["rate-changed"]
    assert not verdict.suspect


def test_two_weak_signals_make_a_suspect():
    # 300 files renamed in one folder to a name no list knows, and the change rate far above
    # normal.
    removed = tuple(f"/srv/share/scans/img{n}.tif" for n in range(300))
    added = tuple(f"/srv/share/scans/img{n}.tif.qxz" for n in range(300))
    summary = replace(QUIET, new=300, changed=600, unmodified=4100)
    verdict = judge(facts(summary=summary, removed=Changes(added, removed, ())), SETTINGS)
    kinds = {s.kind for s in verdict.signals}
    assert {"folder-renames", "rate-renamed"} <= kinds
    assert verdict.suspect
    assert verdict.counts.renamed == 300 and verdict.counts.deleted == 0


def test_rates_need_ten_clean_backups_first():
    summary = replace(QUIET, changed=800, unmodified=4200)
    changes = Changes((), (), tuple(f"/srv/{n}.so" for n in range(800)))
    verdict = judge(facts(summary=summary, removed=changes, history=HISTORY[:9]), SETTINGS)
    assert verdict.signals == ()


def test_mass_deletion_of_one_extension():
    removed = tuple(f"/srv/share/d{n % 7}/file{n}.docx" for n in range(400))
    summary = replace(QUIET, total=4600, unmodified=4600)
    verdict = judge(facts(summary=summary, removed=Changes((), removed, ())), SETTINGS)
    kinds = [s.kind for s in verdict.signals]
    assert "extension-deletes" in kinds and "rate-deleted" in kinds
    assert verdict.suspect
    assert verdict.counts.deleted == 400


def test_without_a_diff_the_summary_gives_the_deleted_count():
    summary = Summary(total=4000, previous_total=5000, new=0, changed=10, unmodified=3990)
    verdict = judge(facts(summary=summary, removed=None), SETTINGS)
    assert verdict.counts.deleted == 1000
    assert not verdict.suspect  # no diff, no rate signal: nothing to compare paths with


def test_the_diff_runs_only_when_enough_files_were_removed_to_matter():
    # 49 files removed: no signal needs their paths; 50: a rate signal may.
    assert not needs_diff(replace(QUIET, previous_total=5048, unmodified=4999), SETTINGS)
    assert needs_diff(replace(QUIET, previous_total=5049, unmodified=4999), SETTINGS)
