"""The technician finds a file and restores it: `bdr ls`, `bdr find`, `bdr diff` on real
snapshots, paths relative to the plan's sources, and a restore of a path given that way."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Appliance


@pytest.fixture
def two_backups(tmp_path, office):
    """An appliance with two snapshots of the office share: between them one invoice was
    edited, a letter deleted, and a file whose name looks like a pattern added."""
    appliance = Appliance(tmp_path / "appliance")
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.write()
    appliance.bdr("init")
    appliance.bdr("backup")
    first = appliance.snapshot_ids("local")[0]
    (office / "documents/invoices/2026-001.txt").write_text("Invoice 1: 1,200 EUR, corrected\n")
    (office / "documents/letters/welcome.txt").unlink()
    (office / "documents/report[1].txt").write_text("quarterly\n")
    appliance.bdr("backup")
    return appliance, office, first


def test_ls_lists_a_folder_given_relative_to_the_sources(two_backups):
    appliance, office, _ = two_backups
    top = appliance.bdr("ls", "office").stdout
    assert f"{office}/documents/" in top and f"{office}/photos/" in top
    listed = appliance.bdr_json("ls", "office", "documents/invoices")
    paths = [entry["path"] for entry in listed["entries"]]
    assert paths == [
        f"{office}/documents/invoices",
        f"{office}/documents/invoices/2026-001.txt",
        f"{office}/documents/invoices/2026-002.txt",
    ]
    assert listed["entries"][1]["size"] == len("Invoice 1: 1,200 EUR, corrected\n")
    missing = appliance.bdr("ls", "office", "documents/nothing", expect=2)
    assert f"{office}/documents/nothing is not in snapshot" in missing.stderr
    unknown = appliance.bdr("ls", "ofice", expect=2)
    assert "no plan named 'ofice' (configured: office); did you mean 'office'?" in unknown.stderr


def test_find_names_snapshot_time_size_and_path_newest_first(two_backups):
    appliance, office, first = two_backups
    newest = appliance.bdr_json("find", "office", "2026-001.txt")
    assert [(hit["path"], hit["size"]) for hit in newest] == [
        (f"{office}/documents/invoices/2026-001.txt", 32)
    ]
    every = appliance.bdr_json("find", "office", "2026-001.txt", "--all-snapshots")
    assert [hit["size"] for hit in every] == [32, 19], "the newest snapshot first"
    assert every[1]["snapshot"].startswith(first)
    # Deleted since: only the older snapshot holds it, and the technician sees which.
    gone = appliance.bdr_json("find", "office", "welcome.txt", "--all-snapshots")
    assert [hit["snapshot"][:8] for hit in gone] == [first[:8]]
    # A name that only looks like a pattern is found as the file of that name.
    literal = appliance.bdr_json("find", "office", "report[1].txt")
    assert [hit["path"] for hit in literal] == [f"{office}/documents/report[1].txt"]
    nothing = appliance.bdr("find", "office", "*.docx", expect=1)
    assert "nothing named '*.docx' in the newest snapshot" in nothing.stderr


def test_diff_says_what_was_added_removed_and_changed_with_sizes(two_backups):
    appliance, office, first = two_backups
    changes = appliance.bdr_json("diff", "office", first[:8])
    assert [(c["path"], c["size_after"]) for c in changes["added"]] == [
        (f"{office}/documents/report[1].txt", 10)
    ]
    assert [(c["path"], c["size_before"]) for c in changes["removed"]] == [
        (f"{office}/documents/letters/welcome.txt", 13)
    ]
    assert [(c["path"], c["size_before"], c["size_after"]) for c in changes["changed"]] == [
        (f"{office}/documents/invoices/2026-001.txt", 19, 32)
    ]
    text = appliance.bdr("diff", "office", first[:8], "latest").stdout
    assert "added: 1 file(s)" in text and "removed: 1 file(s)" in text


def test_a_restore_takes_a_path_relative_to_the_sources(two_backups, tmp_path):
    appliance, office, _ = two_backups
    target = tmp_path / "back"
    done = appliance.bdr(
        "restore", "office", "--include", "documents/invoices/2026-001.txt",
        "--target", str(target),
    )  # fmt: skip
    # The output says exactly where the file went (restic keeps its full path).
    assert f"the file is {target}{office}/documents/invoices/2026-001.txt" in done.stdout
    restored = [p for p in target.rglob("*") if p.is_file()]
    assert [p.relative_to(target).as_posix() for p in restored] == [
        f"{office}/documents/invoices/2026-001.txt".lstrip("/")
    ]
    wrong = appliance.bdr(
        "restore", "office", "--include", "documents/x.txt", "--target", str(tmp_path / "w"),
        expect=2,
    )  # fmt: skip
    assert "bdr ls office" in wrong.stderr
    assert json.loads(appliance.bdr("--json", "status").stdout)["plans"]


def test_scripts_get_json_after_the_command_and_a_nagios_line(two_backups):
    appliance, _, _ = two_backups
    listed = json.loads(appliance.bdr("snapshots", "--json").stdout)
    assert len(listed["snapshots"]) == 2
    # Backed up within the RPO, but no daemon ever ran here: a monitor must hear of it.
    checked = appliance.bdr("status", "--check", expect=2)
    assert checked.stdout == "BDR CRITICAL - daemon never ran\n"


def test_an_onsite_snapshot_id_finds_its_copy_in_the_cloud_tier(tmp_path, office):
    appliance = Appliance(tmp_path / "appliance")
    appliance.local_repository()
    appliance.local_repository("cloud")
    appliance.add_plan("office", [office], copy_to=["cloud"])
    appliance.write()
    appliance.bdr("init")
    appliance.bdr("backup")
    onsite = appliance.snapshot_ids("local")[0]
    target = tmp_path / "from-cloud"
    done = appliance.bdr_json(
        "restore", "office", "--snapshot", onsite[:8], "--repository", "cloud",
        "--target", str(target),
    )  # fmt: skip
    copy = done["snapshot"]
    assert copy[:8] != onsite[:8] and copy[:8] in appliance.snapshot_ids("cloud")
    assert (target / str(office).lstrip("/") / "documents/letters/welcome.txt").exists()
