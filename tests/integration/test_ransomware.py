"""Ransomware and mass-change detection on a 5,000-file share of realistic types, with the
real restic: each attack is caught by the first backup that holds it, retention holds the
clean snapshots, restore passes over the suspect ones, and an ordinary month raises nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.integration import office_share as share
from tests.integration.conftest import Appliance

FILES = 5000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client's share before anything happens to it: made once, copied by each test."""
    root = tmp_path_factory.mktemp("pristine") / "share"
    share.make_share(root, FILES)
    return root


def office_appliance(tmp_path: Path, pristine: Path, **plan: object) -> tuple[Appliance, Path]:
    source = tmp_path / "srv" / "share"
    shutil.copytree(pristine, source, symlinks=True)
    appliance = Appliance(tmp_path / "appliance")
    appliance.local_repository()
    appliance.add_plan("office", [source], **plan)
    appliance.bdr("init")
    return appliance, source


def suspects(appliance: Appliance) -> list[dict]:
    return appliance.bdr_json("suspect", "list")["suspect"]


def metric(appliance: Appliance, line_start: str) -> str | None:
    text = appliance.bdr("metrics").stdout
    found = [line for line in text.splitlines() if line.startswith(line_start)]
    return found[0].rsplit(" ", 1)[1] if found else None


def attack_in_place(source: Path) -> None:
    share.encrypt_in_place(share.share_of(share.files_of(source), 0.3))


def attack_in_place_keeping_mtime(source: Path) -> None:
    share.encrypt_in_place(share.share_of(share.files_of(source), 0.3), keep_mtime=True)


def attack_renaming(source: Path) -> None:
    share.encrypt_and_rename(share.share_of(share.files_of(source), 0.3), ".lockbit")


def attack_with_notes(source: Path) -> None:
    share.leave_notes(source, "HOW_TO_DECRYPT_FILES.txt")


def attack_slowly(source: Path) -> None:
    # The first day of a slow attack: 3% of the files.
    share.encrypt_in_place(share.share_of(share.files_of(source), 0.03))


@pytest.mark.parametrize(
    ("attack", "signal"),
    [
        (attack_in_place, "content"),
        (attack_in_place_keeping_mtime, "content"),
        (attack_renaming, "names"),
        (attack_with_notes, "names"),
        (attack_slowly, "content"),
    ],
)
def test_each_attack_is_caught_by_the_first_backup_that_holds_it(
    tmp_path, pristine, attack, signal
):
    appliance, source = office_appliance(tmp_path, pristine)
    appliance.bdr("backup")
    appliance.bdr("backup")
    assert suspects(appliance) == []
    attack(source)
    result = appliance.bdr("backup", expect=3)
    assert "suspect:" in result.stdout
    (found,) = suspects(appliance)
    assert found["state"] == "open"
    assert signal in [s["kind"] for s in found["signals"]]
    # The example paths are the client's files, as the technician will look for them.
    examples = [e for s in found["signals"] for e in s["examples"]]
    assert examples and all(e.startswith(str(source) + "/") for e in examples)
    assert metric(appliance, 'bdr_backup_suspect{plan="office"}') == "1.0"
    problems = appliance.bdr_json("notify", "status")["open"]
    assert [p["key"] for p in problems] == ["test-01:suspicious:office"]
    assert problems[0]["severity"] == "failure"


def test_a_suspect_snapshot_holds_retention_and_restore_takes_the_last_clean_one(
    tmp_path, pristine
):
    appliance, source = office_appliance(tmp_path, pristine, retention={"last": 1})
    appliance.add("drills", "onsite", plan="office", repository="local", rto="1h")
    appliance.write()
    appliance.bdr("backup")
    appliance.bdr("backup")
    appliance.bdr("drill", "run", "onsite")
    (clean,) = appliance.snapshot_ids("local")
    encrypted = share.share_of(share.files_of(source), 0.3)
    victim = encrypted[0]
    original = victim.read_bytes()
    share.encrypt_in_place(encrypted)
    attacked = appliance.bdr("backup", expect=3)
    (suspect,) = suspects(appliance)
    # Retention forgot nothing: the clean snapshot is still there beside the suspect one.
    assert appliance.snapshot_ids("local") == [clean, suspect["snapshot_id"][:8]]
    assert "nothing forgotten: snapshot " + suspect["snapshot_id"][:8] in attacked.stdout
    retention = [r for r in appliance.runs() if r["kind"] == "retention"][-1]
    assert json.loads(retention["details"])["frozen_by"] == suspect["snapshot_id"][:8]
    listed = appliance.bdr_json("snapshots")["snapshots"]
    assert [(row["short_id"], row["judged"]) for row in listed] == [
        (clean, "clean"),
        (suspect["snapshot_id"][:8], "suspect"),
    ]
    # A drill of the suspect snapshot proves it restores; it does not make it clean.
    appliance.bdr("drill", "run", "onsite")
    status = appliance.bdr_json("status")["plans"][0]
    assert status["state"] == "SUSPECT of ransomware"
    assert status["last_clean_snapshot_id"].startswith(clean)
    listed = appliance.bdr_json("suspect", "list")["last_clean"]
    assert listed[0]["snapshot_id"].startswith(clean)
    # The newest snapshot is refused without --allow-suspect, naming the clean one.
    refused = appliance.bdr("restore", "office", "--target", str(tmp_path / "r1"), expect=2)
    assert "judged suspect" in refused.stderr and clean in refused.stderr
    # --as-of now passes over the suspect snapshot: the file comes back as it was.
    restored = appliance.bdr(
        "restore", "office", "--as-of", time.strftime("%Y-%m-%d %H:%M:%S"),
        "--target", str(tmp_path / "r2"),
    )  # fmt: skip
    assert "passed over 1 newer snapshot" in restored.stderr
    assert (tmp_path / "r2" / victim.relative_to("/")).read_bytes() == original
    appliance.bdr(
        "restore", "office", "--allow-suspect", "--target", str(tmp_path / "r3"),
        "--include", str(victim),
    )  # fmt: skip
    assert (tmp_path / "r3" / victim.relative_to("/")).read_bytes() != original
    # Cleared (say it was a test): the problem resolves and retention resumes.
    appliance.bdr("suspect", "clear", suspect["snapshot_id"][:8], "--note", "drill of the IR plan")
    assert appliance.bdr_json("notify", "status")["open"] == []
    assert metric(appliance, 'bdr_backup_suspect{plan="office"}') == "0.0"
    appliance.bdr("backup", expect=None)
    assert len(appliance.snapshot_ids("local")) <= 2
    records = (appliance.state_dir / "evidence" / "chain.jsonl").read_text().splitlines()
    reviews = [json.loads(line) for line in records if '"review"' in line]
    assert [(r["decision"], r["note"]) for r in reviews] == [("cleared", "drill of the IR plan")]
    appliance.bdr("evidence", "verify")


def test_an_ordinary_month_raises_nothing_and_a_touched_decoy_does(tmp_path, pristine):
    """30 daily backups of a share at work, decoys planted: no snapshot is suspect. Then one
    decoy is opened and saved, and the next backup is."""
    appliance, source = office_appliance(tmp_path, pristine, decoys=True)
    share.binaries(source / "Programs" / "erp", 800, seed=1)
    projects = source / "Projects 2023"
    share.make_share(projects, 150, folders=1, seed=9)
    appliance.bdr("backup")
    decoys = sorted(source.glob("[!~]Archive*")) + sorted(source.glob("~Archive*"))
    assert len(decoys) == 3
    for day in range(1, 30):
        # Nobody opens the decoys: their names say they are an archive's index.
        documents = [
            p for p in share.files_of(source) if "Programs" not in p.parts and p not in decoys
        ]
        share.ordinary_edits(documents, 0.01 + (day % 3) * 0.01, seed=day)
        share.rotate_logs(source / "logs", day)
        if day == 5:  # the scanner's morning batch
            share.make_share(source / "Scans" / "2026-12-05", 40, folders=1, seed=50)
        if day == 12:  # a user renames a project folder of 150 files
            projects.rename(source / "Projects 2023 (closed)")
        if day == 18:  # a software update rewrites 800 program files
            share.binaries(source / "Programs" / "erp", 800, seed=18)
        if day == 22:  # a folder archived as a ZIP beside it
            share.zip_folder(source / "dept07", source / "dept07 archive 2025.zip")
        if day == 25:  # old files cleaned up
            for path in sorted((source / "dept11" / "archive").glob("*"))[:30]:
                path.unlink()
        result = appliance.bdr("backup", expect=None)
        assert result.returncode == 0, f"day {day}: {result.stdout}{result.stderr}"
    assert suspects(appliance) == []
    judged = appliance.bdr_json("suspect", "list", "--all")
    assert judged["suspect"] == []
    # Each backup was judged; the update's day was unusual (one weak signal), not suspect.
    db = sqlite3.connect(appliance.state_dir / "bdr.sqlite")
    days = [
        json.loads(row[0]) for row in db.execute("SELECT signals FROM judgements ORDER BY rowid")
    ]
    assert len(days) == 30
    assert [s["kind"] for s in days[18]] == ["rate-changed"]
    # The decoys are in the client's share, untouched: bdr wrote them and keeps them so.
    assert all(path.exists() for path in decoys)
    # A user (or ransomware) opens a decoy and saves it.
    decoys[0].write_bytes(decoys[0].read_bytes() + b"edited\n")
    appliance.bdr("backup", expect=3)
    (found,) = suspects(appliance)
    assert [s["kind"] for s in found["signals"]] == ["decoy"]
    assert found["signals"][0]["examples"] == [str(decoys[0])]
