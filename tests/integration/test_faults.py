"""Damage to bdr's own files: the appliance keeps backing up and says what happened."""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.conftest import Appliance
from tests.integration.daemon import RunningDaemon, wait_for

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


def middle_page_of_runs(path: Path) -> int:
    """A page that holds runs, from the middle of them (not an index's, nor another table's:
    the schema's growth moves what the middle page of the file holds)."""
    db = sqlite3.connect(path)
    pages = [
        row[0]
        for row in db.execute(
            "SELECT pageno FROM dbstat WHERE name = 'runs' AND pagetype = 'leaf' ORDER BY pageno"
        )
    ]
    db.close()
    return pages[len(pages) // 2]


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
    zero_page(history, middle_page_of_runs(history))  # a bad sector in the middle of the runs
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


@contextmanager
def _state_dir_on_a_small_tmpfs(appliance: Appliance, size: str = "1m") -> Iterator[Path]:
    """Move the appliance's state directory onto a 1 MiB tmpfs; yield the filler file that
    fills it when it is written (and frees it when it is removed)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the state directory")
    state = appliance.state_dir
    saved = state.with_name("state-saved")
    state.rename(saved)
    state.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(state)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["cp", "-a", f"{saved}/.", str(state)], check=True)
        yield state / "filler"
    finally:
        subprocess.run(["umount", "--lazy", str(state)], check=True)


def _fill(filler: Path) -> None:
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True)


def test_a_full_state_dir_still_backs_up_and_says_what_went_unrecorded(
    appliance: Appliance, office: Path
):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")  # the history is made on the real disk, then moved to the tmpfs
    appliance.bdr("backup")
    before = appliance.snapshot_ids("local")
    with _state_dir_on_a_small_tmpfs(appliance) as filler:
        _fill(filler)
        # Nothing has the history open: SQLite cannot even make its shared-memory file.
        closed = appliance.bdr("backup", expect=1)
        assert f"appliance.state_dir {appliance.state_dir} is full (" in closed.stderr
        assert "internal error" not in closed.stderr and "damaged" not in closed.stderr
        assert not list(appliance.state_dir.glob("bdr.sqlite.corrupt-*")), "moved aside"
        # As when the daemon runs: the history is open, its shared-memory file made.
        filler.unlink()
        held = sqlite3.connect(appliance.state_dir / "bdr.sqlite")
        held.execute("SELECT count(*) FROM runs").fetchone()
        _fill(filler)
        try:
            result = appliance.bdr("backup", expect=1)
            assert "internal error" not in result.stderr
            assert f"appliance.state_dir {appliance.state_dir} is full (" in result.stderr
            # The backup ran all the same: its snapshot is in the repository, and named.
            (new,) = set(appliance.snapshot_ids("local")) - set(before)
            assert f"ran, not recorded yet: backup of office (ok, snapshot {new[:8]})" in (
                result.stderr
            )
            assert "their records wait in /" in result.stderr  # a spool outside state_dir
            assert [run["kind"] for run in appliance.runs()].count("backup") == 1
            status = appliance.bdr("status", expect=None)  # reading the history still works
            assert "internal error" not in status.stderr
            filler.unlink()
            # Space is back: the next command, whatever it is, records the spooled run.
            appliance.bdr("status")
            backups = [run for run in appliance.runs() if run["kind"] == "backup"]
            assert [run["snapshot_id"][:8] for run in backups][-1] == new[:8]
            appliance.bdr("backup")  # and backups go on, recorded
            assert [run["kind"] for run in appliance.runs()].count("backup") == 3
        finally:
            held.close()


def test_the_daemon_records_a_backup_it_ran_on_a_full_state_dir_once_there_is_space(
    appliance: Appliance, office: Path
):
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule="*/5 * * * *")
    appliance.bdr("init")
    with _state_dir_on_a_small_tmpfs(appliance, "16m") as filler:
        daemon = RunningDaemon(appliance)  # a cron minute lasts a second: a backup every 5 s
        try:
            wait_for("a first backup", lambda: appliance.snapshot_ids("local"), 60)
            _fill(filler)
            wait_for(
                "a backup on the full state_dir",
                lambda: (
                    "the backup runs all the same" in daemon.text()
                    and "backup ok" in daemon.text().split("the backup runs all the same", 1)[1]
                ),
                60,
            )
            recorded = {run["snapshot_id"] for run in appliance.runs() if run["kind"] == "backup"}
            unrecorded = [sid for sid in appliance.snapshot_ids("local") if sid[:8] not in recorded]
            assert unrecorded, "a snapshot was made while the history could not be written"
            filler.unlink()
            wait_for(
                "the run to be recorded",
                lambda: (
                    unrecorded[0][:8]
                    in {run["snapshot_id"] for run in appliance.runs() if run["kind"] == "backup"}
                ),
                60,
            )
            assert "recorded now: it ran while appliance.state_dir was full" in daemon.text()
            assert "Traceback" not in daemon.text()
        finally:
            assert daemon.stop() == 0
        appliance.bdr("evidence", "verify")  # its evidence record was appended too
