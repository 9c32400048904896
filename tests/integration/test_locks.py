"""Locks: restic's own repository locks, and bdr's per-repository queue between processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Appliance


@pytest.fixture
def ready(appliance: Appliance, office) -> Appliance:
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    return appliance


def start_exclusive_restic(appliance: Appliance) -> subprocess.Popen[str]:
    """Start `restic check` (it holds an exclusive lock) and stop it once the lock is written.

    restic prints "load indexes" right after creating its lock; SIGSTOP there freezes a live
    process with a complete lock, as a long-running check on a big repository would hold.
    """
    repo = appliance.repositories["local"]
    stderr = (appliance.root / "restic-check.stderr").open("w+")
    process = subprocess.Popen(
        ["restic", "check"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={
            **os.environ,
            "RESTIC_REPOSITORY": repo["url"],
            "RESTIC_PASSWORD_FILE": repo["password_file"],
        },
    )
    assert process.stdout is not None
    said: list[str] = []
    for line in process.stdout:
        said.append(line)
        if line.startswith("load indexes"):
            process.send_signal(signal.SIGSTOP)
            break
    stderr.seek(0)
    # Once failed in a loaded CI run without saying why: what restic said is kept for that.
    assert any((Path(repo["url"]) / "locks").iterdir()), (
        f"restic check holds no lock: exit {process.poll()}, stdout {said!r}, "
        f"stderr {stderr.read()!r}"
    )
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
    assert any(locks.iterdir()), "the killed restic left its lock behind"
    ready.bdr("backup")
    assert not any(locks.iterdir())
    assert len(ready.snapshot_ids("local")) == 1


HOLD = """
import sys, time
from pathlib import Path
from bdr.restic.lock import repository_lock
with repository_lock(Path(sys.argv[1]), "local", timeout=5, purpose="test holder"):
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
