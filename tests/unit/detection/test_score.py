"""The verdict: one strong signal or two weak ones make a backup suspect."""

from dataclasses import replace

from bdr.detection.changes import Changes
from bdr.detection.content import Inspection
from bdr.detection.names import NamePatterns, shipped
from bdr.detection.score import Facts, Rates, Settings, Summary, judge

PATTERNS = shipped()
SETTINGS = Settings()
QUIET = Summary(total=5000, previous_total=5000, new=0, changed=0, unmodified=5000)
NOTHING = Changes((), (), ())
# Twenty ordinary days: 1-3% of files edited, almost nothing deleted or renamed.
HISTORY = tuple(Rates(0.01 + (n % 3) * 0.01, 0.0005 * (n % 2), 0.0) for n in range(20))


def facts(**kwargs) -> Facts:
    return Facts(**{"summary": QUIET, "changes": NOTHING, "history": HISTORY, **kwargs})


def test_an_unchanged_backup_is_clean():
    verdict = judge(facts(), SETTINGS, PATTERNS)
    assert not verdict.suspect and verdict.signals == ()


def test_one_ransom_note_is_enough():
    changes = Changes(("/srv/share/HOW_TO_DECRYPT.txt",), (), ())
    verdict = judge(facts(changes=changes), SETTINGS, PATTERNS)
    assert verdict.suspect
    assert verdict.signals[0].kind == "names"
    assert verdict.signals[0].examples == ("/srv/share/HOW_TO_DECRYPT.txt",)
    assert "ransomware" in verdict.reason


def test_a_touched_decoy_is_enough():
    verdict = judge(
        facts(decoys_touched=("/srv/share/!Archive index 2019.csv",)), SETTINGS, PATTERNS
    )
    assert verdict.suspect and verdict.signals[0].kind == "decoy"


def test_lost_formats_count_by_their_projection_onto_every_changed_file():
    lost = tuple(Inspection(f"/s/{n}.pdf", True, True, 7.99, False) for n in range(20))
    kept = tuple(Inspection(f"/s/k{n}.pdf", True, False, 5.0, False) for n in range(180))
    # 20 of 200 sampled, drawn from 2,000 changed files: about 200 lost, an attack.
    attack = judge(facts(inspections=lost + kept, population=2000), SETTINGS, PATTERNS)
    assert attack.suspect
    assert "about 200 changed file(s) no longer match their format" in attack.reason
    # The same 20 of 200, drawn from 200 changed files: 20 broken files, a user's.
    few = judge(facts(inspections=lost + kept, population=200), SETTINGS, PATTERNS)
    assert not few.suspect


def test_an_onion_address_is_enough():
    note = Inspection("/s/note.txt", True, False, 4.0, True)
    assert judge(facts(inspections=(note,), population=1), SETTINGS, PATTERNS).suspect


def test_one_weak_signal_is_an_ordinary_busy_day():
    # A software update rewrote 800 of 5,000 files: far above this plan's normal, alone.
    summary = replace(QUIET, changed=800, unmodified=4200)
    changes = Changes((), (), tuple(f"/srv/app/lib{n}.so" for n in range(800)))
    verdict = judge(facts(summary=summary, changes=changes), SETTINGS, PATTERNS)
    assert [s.kind for s in verdict.signals] == ["rate-changed"]
    assert not verdict.suspect


def test_two_weak_signals_make_a_suspect():
    # 300 files renamed in one folder to a name no list knows, and the change rate far above
    # normal.
    removed = tuple(f"/srv/share/scans/img{n}.tif" for n in range(300))
    added = tuple(f"/srv/share/scans/img{n}.tif.qxz" for n in range(300))
    summary = replace(QUIET, new=300, changed=600, unmodified=4100)
    verdict = judge(facts(summary=summary, changes=Changes(added, removed, ())), SETTINGS, PATTERNS)
    kinds = {s.kind for s in verdict.signals}
    assert {"folder-renames", "rate-renamed"} <= kinds
    assert verdict.suspect
    assert verdict.counts.renamed == 300 and verdict.counts.deleted == 0


def test_rates_need_ten_clean_backups_first():
    summary = replace(QUIET, changed=800, unmodified=4200)
    changes = Changes((), (), tuple(f"/srv/{n}.so" for n in range(800)))
    verdict = judge(
        facts(summary=summary, changes=changes, history=HISTORY[:9]), SETTINGS, PATTERNS
    )
    assert verdict.signals == ()


def test_mass_deletion_of_one_extension():
    removed = tuple(f"/srv/share/d{n % 7}/file{n}.docx" for n in range(400))
    summary = replace(QUIET, total=4600, unmodified=4600)
    verdict = judge(facts(summary=summary, changes=Changes((), removed, ())), SETTINGS, PATTERNS)
    kinds = [s.kind for s in verdict.signals]
    assert "extension-deletes" in kinds and "rate-deleted" in kinds
    assert verdict.suspect
    assert verdict.counts.deleted == 400


def test_without_a_diff_the_summary_gives_the_deleted_count():
    summary = Summary(total=4000, previous_total=5000, new=0, changed=10, unmodified=3990)
    verdict = judge(facts(summary=summary, changes=None), SETTINGS, PATTERNS)
    assert verdict.counts.deleted == 1000
    assert not verdict.suspect  # no diff, no rate signal: nothing to compare paths with


def test_extra_patterns_are_names_too():
    patterns = NamePatterns(PATTERNS.version, (*PATTERNS.patterns, "*.qxz"))
    changes = Changes(("/srv/a.tif.qxz",), (), ())
    assert judge(facts(changes=changes), SETTINGS, patterns).suspect
