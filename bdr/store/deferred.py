"""Runs that ran while the history could not be written (appliance.state_dir full): kept in
the memory of the process that ran them (`Waiting`) and written to the history once there is
space again.

A backup matters more than its record: when state_dir is full, the jobs that protect data
(backup, copy, retention) still run, and their records wait here. The daemon writes them
at its next chance. A command line that ends while state_dir is still full spools them to a
directory outside state_dir (the runtime directory: /run/bdr, $RUNTIME_DIRECTORY under
systemd, or $XDG_RUNTIME_DIR), from which the next bdr command of that appliance, or the
daemon, writes them; it says where they wait.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bdr.atomic import write_atomic
from bdr.store import runs
from bdr.store.database import History
from bdr.store.errors import StoreFull
from bdr.store.outcomes import from_details, to_details

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


class Waiting:
    """The runs of one process (a daemon, a command line) that wait for their record: each
    owner holds one and hands it to the contexts of its runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: list[DeferredRun] = []

    def keep(self, run: DeferredRun) -> None:
        with self._lock:
            self._runs.append(run)

    def pending(self) -> list[DeferredRun]:
        with self._lock:
            return list(self._runs)

    def write(self, db: History) -> list[int]:
        """Write the waiting runs to the history, oldest first; return their new ids. Stops at
        the first that does not fit: the rest wait for the next call."""
        written: list[int] = []
        with self._lock:
            while self._runs:
                try:
                    written.append(_insert(db, self._runs[0]))
                except StoreFull:
                    break
                self._runs.pop(0)
        for run_id in written:
            log.warning("run=%d recorded now: it ran while appliance.state_dir was full", run_id)
        return written

    def spool(self, state_dir: Path) -> Path | None:
        """Write the waiting runs to the spool (one file each, atomically) and forget them
        here; return the spool, or None (they stay waiting in memory) when there is none."""
        folder = spool_dir(state_dir)
        if folder is None:
            return None
        with self._lock:
            while self._runs:
                run = self._runs[0]
                data = {**asdict(run), "ending": _plain_ending(run.ending)}
                name = f"{run.started_at:.6f}-{os.getpid()}-{id(run)}.json"
                try:
                    write_atomic(folder / name, json.dumps(data).encode(), mode=0o600)
                except OSError as error:
                    log.error("the record of a run could not be spooled to %s: %s", folder, error)
                    return None
                self._runs.pop(0)
        return folder

    def unspool(self, state_dir: Path) -> int:
        """Take the runs spooled for `state_dir` back to wait here (oldest first), removing
        their files; return how many."""
        taken = []
        paths = [
            path
            for folder in _spool_dirs(state_dir)
            if folder.is_dir()
            for path in folder.glob("*.json")
        ]
        for path in sorted(paths, key=lambda path: path.name):
            try:
                data = json.loads(path.read_text())
                taken.append(_from_spool(data))
            except (OSError, ValueError, TypeError, KeyError) as error:
                log.error("a spooled run record %s cannot be read: %s", path, error)
                continue
            with contextlib.suppress(OSError):
                path.unlink()
        with self._lock:
            self._runs[:0] = taken
        return len(taken)


def _insert(db: History, run: DeferredRun) -> int:
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


def _spool_dirs(state_dir: Path) -> list[Path]:
    """Where runs of the appliance at `state_dir` may wait, in the order they are tried: a
    directory of the runtime directory, one per state_dir."""
    key = hashlib.sha256(os.fsencode(os.path.realpath(state_dir))).hexdigest()[:16]
    bases = [
        os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0],
        "/run/bdr",
        os.environ.get("XDG_RUNTIME_DIR", ""),
    ]
    return [Path(base) / "spool" / key for base in bases if base]


def spool_dir(state_dir: Path) -> Path | None:
    """The spool of `state_dir`, made if needed; None when no runtime directory is writable."""
    for folder in _spool_dirs(state_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return None


def spooled(state_dir: Path) -> bool:
    """Whether runs of `state_dir` wait in a spool (looked for without making anything)."""
    return any(any(folder.glob("*.json")) for folder in _spool_dirs(state_dir) if folder.is_dir())


def _plain_ending(ending: dict[str, Any]) -> dict[str, Any]:
    outcome = ending.get("outcome")
    kind = getattr(outcome, "kind", None)
    return {**ending, "outcome": None if outcome is None else [kind, to_details(outcome)]}


def _from_spool(data: dict[str, Any]) -> DeferredRun:
    ending = dict(data["ending"])
    outcome = ending.get("outcome")
    ending["outcome"] = None if outcome is None else from_details(outcome[0], outcome[1])
    latest = data.get("latest")
    return DeferredRun(
        kind=data["kind"],
        plan=data.get("plan"),
        repository=data.get("repository"),
        subject=data.get("subject"),
        started_at=float(data["started_at"]),
        ended_at=float(data["ended_at"]),
        status=data["status"],
        ending=ending,
        latest=LatestSnapshot(**latest) if latest else None,
    )
