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
    run = runs.backup_run_for_snapshot(db, plan, snapshot_ids)
    return _typed(run) if run else None


def newest(db: History, plan: str) -> BackupRun | None:
    """Return the newest backup run of `plan` that made a snapshot."""
    run = runs.newest_backup_run(db, plan)
    return _typed(run) if run else None


def for_period(db: History, start: float, end: float) -> list[BackupRun]:
    """Return the backups that ended in [start, end), oldest first."""
    return [_typed(run) for run in runs.runs_between(db, "backup", start, end)]
