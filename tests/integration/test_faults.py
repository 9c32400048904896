"""Damage to bdr's own files: the appliance keeps backing up and says what happened."""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import Appliance

PAGE = 4096


def pad_history(appliance: Appliance, rows: int) -> None:
    """Add old finished runs so the history spans many pages (as months of runs do)."""
    db = sqlite3.connect(appliance.state_dir / "bdr.sqlite")
    db.executemany(
        "INSERT INTO runs (kind, plan, repository, status, started_at, ended_at, host, pid, "
        "details) VALUES ('backup', 'office', 'local', 'ok', ?, ?, 'h', 1, ?)",
        [(1e9 + i, 1e9 + i + 1, json.dumps({"files_new": i})) for i in range(rows)],
    )
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def zero_page(path: Path, number: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek((number - 1) * PAGE)
        handle.write(b"\0" * PAGE)


def test_a_damaged_history_is_moved_aside_salvaged_and_backups_go_on(
    appliance: Appliance, office: Path
):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    appliance.bdr("backup")
    pad_history(appliance, 3000)
    history = appliance.state_dir / "bdr.sqlite"
    pages = history.stat().st_size // PAGE
    zero_page(history, pages // 2)  # a bad sector in the middle of the runs
    status = appliance.bdr("status")
    assert "internal error" not in status.stderr
    assert "WARNING: " in status.stderr and "the history was damaged (" in status.stderr
    (aside,) = appliance.state_dir.glob("bdr.sqlite.corrupt-*")
    assert f"it was moved to {aside}" in status.stderr
    damaged = appliance.bdr_json("status")["history_damaged"]
    assert damaged and "runs" in damaged["what"]
    kept = int(damaged["what"].split("could be read: ")[1].split(" runs")[0])
    assert 2000 < kept < 3001  # most of the runs: all but those on the zeroed page
    appliance.bdr("backup")
    last = appliance.bdr_json("status")["plans"][0]
    assert last["last_run"]["status"] == "ok"
    metrics = appliance.bdr("metrics").stdout
    assert 'bdr_runs_total{kind="history",status="warning"} 1.0' in metrics


def test_a_history_whose_first_page_is_gone_starts_afresh(appliance: Appliance, office: Path):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    appliance.bdr("backup")
    history = appliance.state_dir / "bdr.sqlite"
    db = sqlite3.connect(history)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    zero_page(history, 1)  # "file is not a database"
    result = appliance.bdr("backup")
    assert "internal error" not in result.stderr
    damaged = appliance.bdr_json("status")["history_damaged"]
    assert "what could be read: nothing" in damaged["what"]
    assert [row["kind"] for row in appliance.runs()] == ["history", "backup"]


def test_another_user_than_state_dirs_owner_is_refused_with_the_command_to_use(
    appliance: Appliance, office: Path
):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    os.chown(appliance.state_dir, 65534, 65534)  # as if installed for the service user
    try:
        result = appliance.bdr("backup", expect=2)
    finally:
        os.chown(appliance.state_dir, 0, 0)
    owner = pwd.getpwuid(65534).pw_name
    assert f"appliance.state_dir {appliance.state_dir} belongs to user {owner}" in result.stderr
    assert f"sudo -u {owner} bdr --config {appliance.config_path} backup" in result.stderr
    assert [row["kind"] for row in appliance.runs()] == []  # nothing ran, nothing was written


def test_a_full_state_dir_is_named_with_its_free_space(appliance: Appliance, office: Path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the state directory")
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")  # the history is made on the real disk, then moved to the tmpfs
    state = appliance.state_dir
    saved = state.with_name("state-saved")
    state.rename(saved)
    state.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(state)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["cp", "-a", f"{saved}/.", str(state)], check=True)
        filler = state / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        result = appliance.bdr("backup", expect=1)
        assert "internal error" not in result.stderr
        assert f"appliance.state_dir {state} is full (" in result.stderr
        filler.unlink()
        appliance.bdr("backup")  # space is back: backups go on
    finally:
        subprocess.run(["umount", str(state)], check=True)
