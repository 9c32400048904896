"""Backup runs, typed: the canary each snapshot was made with, and the plan's sources."""

from __future__ import annotations

from bdr.store import runs
from bdr.store.database import History
from bdr.store.outcomes import BackupOutcome

BackupRun = runs.RunOf[BackupOutcome]


def _typed(run: runs.Run) -> BackupRun:
    return runs.typed(run, BackupOutcome)


def for_snapshot(db: History, plan: str, snapshot_ids: list[str]) -> BackupRun | None:
    """Return the backup run that made one of `snapshot_ids` (full or short ids match)."""
    rows = db.execute(
        "SELECT * FROM runs WHERE kind = 'backup' AND plan = ? AND snapshot_id IS NOT NULL "
        "ORDER BY id DESC",
        (plan,),
    ).fetchall()
    for row in rows:
        recorded = row["snapshot_id"]
        if any(sid.startswith(recorded) or recorded.startswith(sid) for sid in snapshot_ids if sid):
            return _typed(runs.run_from(row))
    return None


def newest(db: History, plan: str) -> BackupRun | None:
    """Return the newest backup run of `plan` that made a snapshot."""
    row = db.execute(
        "SELECT * FROM runs WHERE kind = 'backup' AND plan = ? AND snapshot_id IS NOT NULL "
        "ORDER BY id DESC LIMIT 1",
        (plan,),
    ).fetchone()
    return _typed(runs.run_from(row)) if row else None


def previous(db: History, plan: str, repository: str, *, before_run: int) -> BackupRun | None:
    """The newest backup of `plan` into `repository` before run `before_run` that made a
    snapshot and counted its files: what the next snapshot is compared with."""
    row = db.execute(
        "SELECT * FROM runs WHERE kind = 'backup' AND plan = ? AND repository = ? AND id < ? "
        "AND snapshot_id IS NOT NULL AND files_processed IS NOT NULL "
        "AND status IN ('ok', 'warning') ORDER BY id DESC LIMIT 1",
        (plan, repository, before_run),
    ).fetchone()
    return _typed(runs.run_from(row)) if row else None


def for_period(db: History, start: float, end: float) -> list[BackupRun]:
    """Return the backups that ended in [start, end), oldest first."""
    return [_typed(run) for run in runs.runs_between(db, "backup", start, end)]
