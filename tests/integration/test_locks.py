"""Locks: restic's own repository locks, and bdr's per-repository queue between processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Appliance, lock_files


@pytest.fixture
def ready(appliance: Appliance, office) -> Appliance:
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    return appliance


def start_exclusive_restic(
    appliance: Appliance, repository: str = "local"
) -> subprocess.Popen[str]:
    """Start a live restic that holds an exclusive lock for as long as the test wants.

    `restic key passwd` takes an exclusive lock, then waits for the new password on stdin: given
    a pipe nobody writes to, it holds the lock, alive, until it is killed. (A `restic check`
    stopped with SIGSTOP at "load indexes" was used before; on a small repository the check could
    finish and drop its lock before the signal landed, which a loaded CI run saw.)
    """
    repo = appliance.repositories[repository]
    locks = Path(repo["url"]) / "locks"
    process = subprocess.Popen(
        ["restic", "key", "passwd"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "RESTIC_REPOSITORY": repo["url"],
            "RESTIC_PASSWORD_FILE": repo["password_file"],
        },
    )
    deadline = time.monotonic() + 60
    while not lock_files(locks):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate()
            raise AssertionError(f"restic key passwd took no lock: {stderr!r}")
        time.sleep(0.05)
    return process


def test_live_restic_lock_exits_5_and_is_not_removed(ready: Appliance):
    holder = start_exclusive_restic(ready)
    try:
        result = ready.bdr("backup", expect=5)
        assert "locked" in result.stdout
        assert any((Path(ready.repositories["local"]["url"]) / "locks").iterdir())
        assert ready.runs()[-1]["exit_code"] == 5
        # The holder is named, and the advice is to wait, not to unlock.
        error = ready.runs()[-1]["error"]
        assert f"locked by a live restic: restic PID {holder.pid} on " in error
        assert ", exclusive, created " in error
        assert "unlock" not in error and "`unlock` command" not in result.stdout
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_of_a_killed_restic_is_cleared_once(ready: Appliance):
    holder = start_exclusive_restic(ready)
    holder.kill()
    holder.wait()
    locks = Path(ready.repositories["local"]["url"]) / "locks"
    assert lock_files(locks), "the killed restic left its lock behind"
    ready.bdr("backup")
    assert not any(locks.iterdir())
    assert len(ready.snapshot_ids("local")) == 1


def test_snapshots_of_all_tiers_at_once_past_a_stale_lock_and_a_missing_tier(
    appliance: Appliance, office
):
    # Every tier is listed at once; a listing refused by a stale lock is run again after
    # `restic unlock`, and a tier that is gone is named without hiding the others.
    for name in ("onsite", "offsite", "gone"):
        appliance.local_repository(name)
    appliance.add_plan("office", [office], repository="onsite", copy_to=["offsite"])
    appliance.bdr("init")
    appliance.bdr("backup")
    holder = start_exclusive_restic(appliance, "offsite")
    holder.kill()
    holder.wait()
    shutil.rmtree(appliance.repositories["gone"]["url"])
    listing = appliance.bdr_json("snapshots", expect=6)
    assert sorted(row["repository"] for row in listing["snapshots"]) == ["offsite", "onsite"]
    assert list(listing["errors"]) == ["gone"]
    assert "repository gone: " in listing["errors"]["gone"]
    assert not lock_files(Path(appliance.repositories["offsite"]["url"]) / "locks")


HOLD = """
import sys, time
from pathlib import Path
from bdr.restic.lock import repository_lock
from bdr.restic.supervisor import Supervisor
with repository_lock(
    Path(sys.argv[1]), "local", timeout=5, purpose="test holder", supervisor=Supervisor()
):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_bdr_lock(appliance: Appliance, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(appliance.state_dir), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_second_bdr_waits_for_the_first(ready: Appliance):
    holder = hold_bdr_lock(ready, 3)
    started = time.monotonic()
    result = ready.bdr("backup")
    assert time.monotonic() - started >= 2.5
    assert "waiting for repository 'local'" in result.stderr and "test holder" in result.stderr
    holder.wait()


def test_bdr_gives_up_after_its_lock_timeout(ready: Appliance):
    holder = hold_bdr_lock(ready, 30)
    try:
        result = ready.bdr("backup", "--lock-timeout", "1", expect=5)
        assert "repository 'local' is busy" in result.stdout
        assert ready.snapshot_ids("local") == []
    finally:
        holder.kill()
        holder.wait()


def test_a_drill_that_times_out_on_the_lock_exits_5_as_backup_does(ready: Appliance):
    ready.add("drills", "onsite", plan="office", repository="local")
    ready.appliance["lock_timeout"] = "1s"
    ready.write()
    ready.bdr("backup")
    holder = hold_bdr_lock(ready, 30)
    try:
        result = ready.bdr("drill", "run", "onsite", expect=5)
        assert "repository 'local' is busy" in result.stdout
    finally:
        holder.kill()
        holder.wait()


def test_a_restore_runs_beside_a_copy_held_by_a_slow_cloud_and_a_check_waits(
    appliance: Appliance, office, rclone_doors, tmp_path
):
    """restic's semantics: a copy and a restore share the onsite repository; a check needs it
    alone, and says who holds it and for how long."""
    import signal

    door, _ = rclone_doors
    appliance.local_repository()
    appliance.add_repository(
        "cloud", door.url("test-01-slow"), env_file=door.env_file(appliance.secrets / "c.env")
    )
    appliance.repositories["cloud"]["append_only"] = True
    appliance.add_plan("office", [office], copy_to=["cloud"])
    appliance.appliance["lock_timeout"] = "3s"
    appliance.write()
    appliance.bdr("init")
    appliance.bdr("backup")
    assert door.process is not None
    os.kill(door.process.pid, signal.SIGSTOP)  # the cloud stops answering mid-upload
    try:
        backup = subprocess.Popen(
            [sys.executable, "-m", "bdr", "--config", str(appliance.config_path), "backup"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert backup.stderr is not None
        for line in backup.stderr:
            if "copying plan office" in line:
                break
        started = time.monotonic()
        target = tmp_path / "urgent"
        done = appliance.bdr("restore", "office", "--target", str(target))
        assert time.monotonic() - started < 30, "the restore did not wait for the copy"
        assert "restored snapshot" in done.stdout
        assert (target / str(office).lstrip("/") / "documents/letters/welcome.txt").exists()
        assert backup.poll() is None, "the copy is still held by the stopped cloud"
        refused = appliance.bdr("check", "local", expect=5)
        said = refused.stdout + refused.stderr
        assert "waiting for repository 'local' alone" in said
        assert "copy of plan office to cloud (for " in said
    finally:
        os.kill(door.process.pid, signal.SIGCONT)
    out, err = backup.communicate(timeout=120)
    assert backup.returncode == 0, out + err
