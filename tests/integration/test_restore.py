"""`bdr restore` against real restic."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bdr.restic.messages import parse_time
from tests.integration.conftest import Appliance
from tests.integration.daemon import wait_for


@pytest.fixture
def backed_up(appliance: Appliance, office) -> Appliance:
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    appliance.bdr("backup")
    return appliance


def test_restore_latest_is_verified_and_complete(backed_up: Appliance, office, tmp_path):
    target = tmp_path / "restore"
    result = backed_up.bdr("restore", "office", "--target", str(target))
    assert f"into {target}" in result.stdout and "(verified)" in result.stdout
    for path in office.rglob("*"):
        if path.is_file():
            restored = target / path.relative_to("/")
            assert restored.read_bytes() == path.read_bytes()
    run = backed_up.runs()[-1]
    assert (run["kind"], run["status"], run["subject"]) == ("restore", "ok", str(target))


def test_restore_with_include_brings_back_only_that_folder(backed_up: Appliance, office, tmp_path):
    target = tmp_path / "restore"
    invoices = office / "documents" / "invoices"
    summary = backed_up.bdr_json(
        "restore", "office", "--target", str(target), "--include", str(invoices)
    )
    assert summary["files"] == 2
    restored = sorted(p.name for p in target.rglob("*") if p.is_file())
    assert restored == ["2026-001.txt", "2026-002.txt"]


def test_a_file_already_there_is_never_overwritten_without_a_word(
    backed_up: Appliance, office, tmp_path
):
    target = tmp_path / "busy"
    letter = target / str(office).lstrip("/") / "documents/letters/welcome.txt"
    letter.parent.mkdir(parents=True)
    letter.write_text("edited since the backup")
    (target / "keep.txt").write_text("precious")  # in the way of nothing: no conflict
    result = backed_up.bdr("restore", "office", "--target", str(target), expect=2)
    assert f"1 file(s) in {target} would be overwritten (first: {letter})" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt", "tmp"]  # nothing written
    dry = backed_up.bdr("restore", "office", "--target", str(target), "--dry-run").stdout
    assert f"would overwrite 1 file(s) already there:\n  {letter}\n" in dry
    kept = backed_up.bdr("restore", "office", "--target", str(target), "--conflict", "skip")
    assert "1 file(s) already there were kept" in kept.stdout
    assert letter.read_text() == "edited since the backup"
    assert (letter.parent.parent / "invoices/2026-001.txt").exists()
    beside = backed_up.bdr("restore", "office", "--target", str(target), "--conflict", "rename")
    copies = sorted(p.name for p in letter.parent.iterdir())
    assert copies[0] == "welcome.txt" and copies[1].startswith("welcome.txt.restored-"), copies
    assert (letter.parent / copies[1]).read_text() == "Dear client,\n"
    assert f"restored beside the file there: {letter.parent / copies[1]}" in beside.stdout
    assert letter.read_text() == "edited since the backup"
    assert not list(target.glob(".bdr-restore-*")), "the staging folder is gone"
    backed_up.bdr("restore", "office", "--target", str(target), "--force")
    assert letter.read_text() == "Dear client,\n"
    assert (target / "keep.txt").read_text() == "precious"


def test_strip_puts_a_file_back_relative_to_its_source_folder(backed_up: Appliance, tmp_path):
    target = tmp_path / "share"
    done = backed_up.bdr(
        "restore", "office", "--include", "documents/letters/welcome.txt", "--strip",
        "--target", str(target),
    )  # fmt: skip
    assert [p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()] == [
        "documents/letters/welcome.txt"
    ]
    assert f"the file is {target}/documents/letters/welcome.txt" in done.stdout


def test_restore_over_the_source_needs_in_place(backed_up: Appliance, office):
    result = backed_up.bdr("restore", "office", "--target", str(office), expect=2)
    assert "is the source" in result.stderr
    result = backed_up.bdr("restore", "office", "--target", "/", expect=2)
    assert "refusing to restore into /" in result.stderr


def test_snapshot_id_as_of_and_dry_run(backed_up: Appliance, office, tmp_path):
    first = backed_up.snapshot_ids("local")[0]
    first_time = json.loads(backed_up.restic("local", "snapshots", "--json").stdout)[0]["time"]
    # A cut just after the first snapshot; the second must be made after it.
    cut_at = parse_time(first_time) + timedelta(milliseconds=10)
    cut = cut_at.isoformat()
    wait_for("the clock to pass the cut", lambda: time.time() > cut_at.timestamp() + 0.01)
    (office / "documents" / "late.txt").write_text("written after the cut\n")
    backed_up.bdr("backup")
    dry = backed_up.bdr_json(
        "restore", "office", "--target", str(tmp_path / "t"), "--as-of", cut, "--dry-run"
    )
    assert dry["snapshot"].startswith(first)
    assert not (tmp_path / "t").exists()
    target = tmp_path / "by-id"
    backed_up.bdr("restore", "office", "--target", str(target), "--snapshot", first)
    assert not (target / office.relative_to("/") / "documents" / "late.txt").exists()
    result = backed_up.bdr(
        "restore", "office", "--target", str(tmp_path / "x"), "--snapshot", "ffffffff", expect=2
    )
    assert "snapshot id 'ffffffff' matches no snapshot" in result.stderr


def test_include_matching_nothing_is_refused(backed_up: Appliance, tmp_path):
    result = backed_up.bdr(
        "restore", "office", "--target", str(tmp_path / "t"), "--include", "/no/such/path", expect=2
    )
    assert "matches no file" in result.stderr


# restic, except that `restore` writes nothing and exits 0 (a broken restorer), or `ls` adds a
# node whose path climbs out of the target.
RESTORES_NOTHING = """#!/bin/sh
for word in "$@"; do
    case "$word" in restore) exit 0;; ls) break;; esac
done
exec restic "$@"
"""
LISTS_AN_ESCAPE = """#!/bin/sh
for word in "$@"; do
    case "$word" in
        ls) restic "$@" || exit $?
            printf '%s%s\n' '{"name":"shadow","type":"file","path":"/srv/../../etc/shadow",' \
                '"size":9,"mtime":"2026-11-01T00:00:00Z","struct_type":"node"}'
            exit 0;;
    esac
done
exec restic "$@"
"""


def test_a_restore_that_wrote_nothing_fails_naming_what_is_missing(backed_up: Appliance, tmp_path):
    backed_up.use_restic(RESTORES_NOTHING)
    target = tmp_path / "restore"
    result = backed_up.bdr("restore", "office", "--target", str(target), expect=1)
    assert "restic reported success, but 6 of 6 listed file(s) are not in" in result.stderr
    assert "(first: /" in result.stderr
    run = backed_up.runs()[-1]
    assert (run["kind"], run["status"]) == ("restore", "failed")


def test_a_listed_path_that_leaves_the_target_is_refused(backed_up: Appliance, tmp_path):
    backed_up.use_restic(LISTS_AN_ESCAPE)
    target = tmp_path / "restore"
    result = backed_up.bdr("restore", "office", "--target", str(target), expect=1)
    assert "'/srv/../../etc/shadow', a path that would leave the target: refused" in result.stderr
    assert not target.exists()


SERVICE = 65534  # nobody: the service user of an appliance installed for it


def _service_user_can_run_bdr() -> bool:
    probe = [sys.executable, "-c", "import bdr.actions.restore, rich.progress"]
    where = ["setpriv", f"--reuid={SERVICE}", f"--regid={SERVICE}", "--clear-groups"]
    return subprocess.run([*where, *probe], capture_output=True).returncode == 0


def test_root_restores_keep_owners_and_leave_bdrs_own_files_to_the_service_user(
    office: Path, tmp_path: Path
):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root (and setpriv) to restore owners and act as the service user")
    if not _service_user_can_run_bdr():
        pytest.skip("the service user cannot reach this checkout's interpreter and bdr")
    private = office / "hr"
    private.mkdir(mode=0o700)
    (private / "salaries.txt").write_text("confidential\n")
    letter = office / "documents/letters/welcome.txt"
    for path, mode in ((private, 0o700), (private / "salaries.txt", 0o640), (letter, 0o600)):
        os.chown(path, 1234, 1235)
        path.chmod(mode)
    # Outside root's own pytest folders: the service user must reach its state_dir.
    root = Path(tempfile.mkdtemp(prefix="bdr-service-"))
    root.chmod(0o755)
    try:
        appliance = Appliance(root)
        appliance.local_repository()
        appliance.add_plan("office", [office])
        appliance.bdr("init")
        appliance.bdr("backup")
        # Installed for the service user: state_dir, repository and secrets are its own;
        # the config stays root's (as /etc/bdr/bdr.toml).
        for top in (appliance.state_dir, root / "repos", appliance.secrets):
            subprocess.run(["chown", "-R", f"{SERVICE}:{SERVICE}", str(top)], check=True)

        refused = appliance.bdr("backup", expect=2)  # root may restore, not run the service
        assert "belongs to user" in refused.stderr and "bdr runs as that user" in refused.stderr

        target = tmp_path / "back"  # in root's 0700 folder: only root can write there
        done = appliance.bdr("restore", "office", "--target", str(target))
        assert "(verified)" in done.stdout
        restored = target / str(office).lstrip("/")
        for path, mode in (("hr", 0o700), ("hr/salaries.txt", 0o640), (letter, 0o600)):
            info = (
                (restored / path).lstat()
                if isinstance(path, str)
                else (restored / path.relative_to(office)).lstat()
            )
            assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (1234, 1235, mode)
        assert (restored / "hr/salaries.txt").read_text() == "confidential\n"

        # Staged (moved into place as root): a file kept beside the one there.
        edited = restored / "documents/letters/welcome.txt"
        edited.write_text("edited")
        appliance.bdr("restore", "office", "--target", str(target), "--conflict", "rename")
        beside = [p for p in edited.parent.iterdir() if p.name != "welcome.txt"]
        assert len(beside) == 1 and beside[0].stat().st_uid == 1234, beside
        assert not list(target.glob(".bdr-restore-*"))

        # Everything bdr wrote is the service user's, and the service goes on as that user.
        others = [
            str(path)
            for top in (appliance.state_dir, root / "repos")
            for path in (top, *top.rglob("*"))
            if path.lstat().st_uid != SERVICE
        ]
        assert others == []
        as_service = ["setpriv", f"--reuid={SERVICE}", f"--regid={SERVICE}", "--clear-groups"]
        listed = appliance.bdr("--json", "snapshots", prefix=as_service)
        assert json.loads(listed.stdout)
        kinds = [(run["kind"], run["status"]) for run in appliance.runs()]
        assert kinds[-2:] == [("restore", "ok"), ("restore", "ok")]
    finally:
        shutil.rmtree(root, ignore_errors=True)
