"""Runs that ran while state_dir was full wait in memory and are written, in order, later."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bdr.store import deferred, runs
from bdr.store.database import connect
from bdr.store.errors import StoreFull
from bdr.store.outcomes import BackupOutcome


def waiting(started: float, snapshot: str) -> deferred.DeferredRun:
    return deferred.DeferredRun(
        kind="backup",
        plan="office",
        repository="local",
        subject=None,
        started_at=started,
        ended_at=started + 30,
        status=runs.OK,
        ending={
            "snapshot_id": snapshot,
            "exit_code": 0,
            "bytes_processed": 100,
            "outcome": BackupOutcome(canary_sha256="ab" * 32),
        },
        latest=deferred.LatestSnapshot("office", "local", snapshot, started),
    )


class FullOnce:
    """A history whose disk is full for the first write."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.full = True

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if self.full and sql.startswith("BEGIN"):
            self.full = False
            raise StoreFull("appliance.state_dir is full")
        return self.db.execute(sql, *args)

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction


def test_written_in_order_with_their_own_times_and_snapshot(tmp_path: Path):
    db = connect(tmp_path)
    waits = deferred.Waiting()
    waits.keep(waiting(1000.0, "aaaa1111"))
    waits.keep(waiting(2000.0, "bbbb2222"))
    first, second = waits.write(db)
    assert waits.pending() == []
    rows = {row["id"]: row for row in db.execute("SELECT * FROM runs")}
    assert (rows[first]["started_at"], rows[first]["ended_at"]) == (1000.0, 1030.0)
    assert (rows[second]["snapshot_id"], rows[second]["status"]) == ("bbbb2222", runs.OK)
    latest = db.execute("SELECT snapshot_id FROM latest_snapshots").fetchall()
    assert [row[0] for row in latest] == ["bbbb2222"]


def test_a_disk_still_full_keeps_them_waiting(tmp_path: Path):
    db = connect(tmp_path)
    waits = deferred.Waiting()
    waits.keep(waiting(1000.0, "aaaa1111"))
    full = FullOnce(db)
    assert waits.write(full) == []  # type: ignore[arg-type]
    assert len(waits.pending()) == 1
    assert len(waits.write(full)) == 1  # type: ignore[arg-type]
    assert waits.pending() == []
