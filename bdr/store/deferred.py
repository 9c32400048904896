"""Runs that ran while the history could not be written (appliance.state_dir full): kept in
this process's memory and written to the history once there is space again.

A backup matters more than its record: when state_dir is full, the jobs that protect data
(backup, copy, retention) still run, and their records wait here. The daemon writes them
at its next chance; a command line that ends while state_dir is still full says which run
went unrecorded.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from bdr.store import runs
from bdr.store.database import is_full

log = logging.getLogger(__name__)

# The kinds that run without a record rather than not at all.
KINDS = frozenset({"backup", "copy", "retention"})


@dataclass(frozen=True)
class LatestSnapshot:
    plan: str
    repository: str
    snapshot_id: str
    snapshot_time: float


@dataclass(frozen=True)
class DeferredRun:
    kind: str
    plan: str | None
    repository: str | None
    subject: str | None
    started_at: float
    ended_at: float
    status: str
    ending: dict[str, Any]  # what runs.finish_run writes besides the status
    latest: LatestSnapshot | None

    @property
    def snapshot_id(self) -> str | None:
        return self.ending.get("snapshot_id")


_pending: list[DeferredRun] = []
_lock = threading.Lock()


def keep(run: DeferredRun) -> None:
    with _lock:
        _pending.append(run)


def pending() -> list[DeferredRun]:
    with _lock:
        return list(_pending)


def write(db: sqlite3.Connection) -> list[int]:
    """Write the waiting runs to the history, oldest first; return their new ids. Stops at the
    first that does not fit: the rest wait for the next call."""
    written: list[int] = []
    with _lock:
        while _pending:
            run = _pending[0]
            try:
                written.append(_insert(db, run))
            except sqlite3.OperationalError as error:
                if not is_full(error):
                    raise
                break
            _pending.pop(0)
    for run_id in written:
        log.warning("run=%d recorded now: it ran while appliance.state_dir was full", run_id)
    return written


def _insert(db: sqlite3.Connection, run: DeferredRun) -> int:
    db.execute("BEGIN IMMEDIATE")
    try:
        run_id = runs.start_run(
            db,
            run.kind,
            plan=run.plan,
            repository=run.repository,
            subject=run.subject,
            now=lambda: run.started_at,
        )
        runs.finish_run(db, run_id, run.status, **run.ending, now=lambda: run.ended_at)
        if run.latest is not None:
            latest = run.latest
            runs.record_latest_snapshot(
                db,
                latest.plan,
                latest.repository,
                latest.snapshot_id,
                latest.snapshot_time,
                now=lambda: run.ended_at,
            )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite rolls back by itself when the disk is full
            db.execute("ROLLBACK")
        raise
    return run_id
