"""Runs in the history: written when they start, completed when they end.

A run left `running` by a process that no longer exists becomes `interrupted` the next time
any bdr process opens the history, so a crash or power cut never leaves a run that lies.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from bdr.fsnames import shown
from bdr.store.outcomes import Outcome, from_details, to_details

RUNNING = "running"
OK = "ok"
WARNING = "warning"
FAILED = "failed"
INTERRUPTED = "interrupted"
STATUSES = (RUNNING, OK, WARNING, FAILED, INTERRUPTED)
FINISHED = (OK, WARNING, FAILED, INTERRUPTED)


@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    plan: str | None
    repository: str | None
    subject: str | None
    status: str
    started_at: float
    ended_at: float | None
    snapshot_id: str | None
    exit_code: int | None
    error: str | None
    bytes_added: int | None
    bytes_processed: int | None
    files_processed: int | None
    outcome: Outcome | None = None

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


OutcomeT = TypeVar("OutcomeT", bound=Outcome)


@dataclass(frozen=True)
class RunOf(Generic[OutcomeT]):
    """A run with its outcome of the type its kind produces."""

    run: Run
    outcome: OutcomeT


def typed(run: Run, kind: type[OutcomeT]) -> RunOf[OutcomeT]:
    """Return `run` with its outcome as `kind` (empty when the run recorded none: it died)."""
    outcome = run.outcome if isinstance(run.outcome, kind) else kind()
    return RunOf(run, outcome)


def _process_start(pid: int) -> str | None:
    """Return the start time of `pid` from /proc, which tells a live process from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    return stat.rsplit(")", 1)[1].split()[19]


def start_run(
    connection: sqlite3.Connection,
    kind: str,
    *,
    plan: str | None = None,
    repository: str | None = None,
    subject: str | None = None,
    now: Callable[[], float] = time.time,
) -> int:
    """Record a run as `running` and return its id."""
    pid = os.getpid()
    cursor = connection.execute(
        "INSERT INTO runs (kind, plan, repository, subject, status, started_at, host, pid, "
        "pid_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            plan,
            repository,
            subject,
            RUNNING,
            now(),
            socket.gethostname(),
            pid,
            _process_start(pid),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish_run(
    connection: sqlite3.Connection,
    run_id: int,
    status: str,
    *,
    snapshot_id: str | None = None,
    exit_code: int | None = None,
    error: str | None = None,
    bytes_added: int | None = None,
    bytes_processed: int | None = None,
    files_processed: int | None = None,
    outcome: Outcome | None = None,
    snapshot_time: float | None = None,
    now: Callable[[], float] = time.time,
) -> None:
    """Record the end of a run. It cannot fail for what the run produced: text that SQLite cannot
    store (a file name that is not UTF-8) is escaped, and details that cannot be written are
    replaced by a note, so that no run stays `running` for ever."""
    if status not in STATUSES or status == RUNNING:
        raise ValueError(f"a run cannot end as {status!r}")
    try:
        encoded = json.dumps(to_details(outcome), sort_keys=True, default=str)
    except (TypeError, ValueError) as problem:
        encoded = json.dumps({"unrecorded_details": shown(str(problem))})
    connection.execute(
        "UPDATE runs SET status = ?, ended_at = ?, snapshot_id = ?, exit_code = ?, error = ?, "
        "bytes_added = ?, bytes_processed = ?, files_processed = ?, details = ?, "
        "snapshot_time = ? WHERE id = ?",
        (
            status,
            now(),
            snapshot_id,
            exit_code,
            None if error is None else shown(error),
            bytes_added,
            bytes_processed,
            files_processed,
            encoded,
            snapshot_time,
            run_id,
        ),
    )


def recover_dead_runs(
    connection: sqlite3.Connection, *, now: Callable[[], float] = time.time
) -> list[int]:
    """Mark as interrupted the runs of this host whose process is gone; return their ids."""
    host = socket.gethostname()
    dead = []
    for row in connection.execute(
        "SELECT id, pid, pid_start FROM runs WHERE status = ? AND host = ?", (RUNNING, host)
    ).fetchall():
        start = _process_start(row["pid"])
        if start is None or (row["pid_start"] is not None and start != row["pid_start"]):
            dead.append(row["id"])
    for run_id in dead:
        connection.execute(
            "UPDATE runs SET status = ?, ended_at = COALESCE(ended_at, ?), "
            "error = COALESCE(error, 'the bdr process ended before the run finished') "
            "WHERE id = ? AND status = ?",
            (INTERRUPTED, now(), run_id, RUNNING),
        )
    return dead


def run_from(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        kind=row["kind"],
        plan=row["plan"],
        repository=row["repository"],
        subject=row["subject"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        snapshot_id=row["snapshot_id"],
        exit_code=row["exit_code"],
        error=row["error"],
        bytes_added=row["bytes_added"],
        bytes_processed=row["bytes_processed"],
        files_processed=row["files_processed"],
        outcome=from_details(row["kind"], json.loads(row["details"] or "{}")),
    )


def get_run(connection: sqlite3.Connection, run_id: int) -> Run | None:
    row = connection.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    return run_from(row) if row else None


def last_run(
    connection: sqlite3.Connection,
    kind: str,
    *,
    plan: str | None = None,
    repository: str | None = None,
    subject: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> Run | None:
    """Return the newest finished-or-running run of `kind` matching the given fields."""
    query = "SELECT * FROM runs WHERE kind = ?"
    params: list[Any] = [kind]
    for column, value in (("plan", plan), ("repository", repository), ("subject", subject)):
        if value is not None:
            query += f" AND {column} = ?"
            params.append(value)
    if statuses:
        query += f" AND status IN ({', '.join('?' for _ in statuses)})"
        params.extend(statuses)
    row = connection.execute(query + " ORDER BY id DESC LIMIT 1", params).fetchone()
    return run_from(row) if row else None


def finished_keys(connection: sqlite3.Connection, *, before: float) -> list[tuple[int, str, float]]:
    """Return (id, kind, start) of the runs that started before `before` and are not running,
    oldest first: what tells a run apart, without reading the runs whole."""
    rows = connection.execute(
        "SELECT id, kind, started_at FROM runs WHERE status != ? AND started_at < ? ORDER BY id",
        (RUNNING, before),
    ).fetchall()
    return [(int(row["id"]), str(row["kind"]), float(row["started_at"])) for row in rows]


def every_run(connection: sqlite3.Connection) -> Iterator[Run]:
    """Yield every run of the history, oldest first, read as the cursor goes (a history of
    100,000 runs is not held at once)."""
    for row in connection.execute("SELECT * FROM runs ORDER BY id"):
        yield run_from(row)


def first_started(connection: sqlite3.Connection) -> float | None:
    """The start of the history's first run (None when it holds none)."""
    row = connection.execute("SELECT MIN(started_at) AS first FROM runs").fetchone()
    return None if row is None or row["first"] is None else float(row["first"])


def list_runs(connection: sqlite3.Connection, *, limit: int = 100) -> list[Run]:
    rows = connection.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [run_from(row) for row in rows]


def record_latest_snapshot(
    connection: sqlite3.Connection,
    plan: str,
    repository: str,
    snapshot_id: str,
    snapshot_time: float,
    *,
    now: Callable[[], float] = time.time,
) -> None:
    """Remember the newest snapshot of a plan in a repository: the one recorded last.

    Newest by the order of runs, not by its time: after a clock that ran a day ahead, a
    future-dated snapshot must not hide, for a day, that backups stopped.
    """
    connection.execute(
        "INSERT INTO latest_snapshots (plan, repository, snapshot_id, snapshot_time, recorded_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (plan, repository) DO UPDATE SET "
        "snapshot_id = excluded.snapshot_id, snapshot_time = excluded.snapshot_time, "
        "recorded_at = excluded.recorded_at",
        (plan, repository, snapshot_id, snapshot_time, now()),
    )


@dataclass(frozen=True)
class LatestSnapshot:
    snapshot_id: str
    snapshot_time: float


def latest_snapshot(
    connection: sqlite3.Connection, plan: str, repository: str
) -> LatestSnapshot | None:
    row = connection.execute(
        "SELECT snapshot_id, snapshot_time FROM latest_snapshots WHERE plan = ? AND repository = ?",
        (plan, repository),
    ).fetchone()
    return LatestSnapshot(row["snapshot_id"], row["snapshot_time"]) if row else None


def finished_runs(
    connection: sqlite3.Connection,
    kind: str,
    *,
    repository: str | None = None,
    subject: str | None = None,
    limit: int = 1000,
) -> list[Run]:
    """Return finished runs of `kind`, newest first."""
    query = "SELECT * FROM runs WHERE kind = ? AND status != ?"
    params: list[Any] = [kind, RUNNING]
    for column, value in (("repository", repository), ("subject", subject)):
        if value is not None:
            query += f" AND {column} = ?"
            params.append(value)
    rows = connection.execute(query + " ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()
    return [run_from(row) for row in rows]


def counts(connection: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Return how many runs the history holds of each (kind, status) (kept by triggers)."""
    rows = connection.execute("SELECT kind, status, n FROM run_counts WHERE n > 0")
    return {(row["kind"], row["status"]): row["n"] for row in rows}


def runs_between(connection: sqlite3.Connection, kind: str, start: float, end: float) -> list[Run]:
    """Return the finished runs of `kind` that ended in [start, end), oldest first."""
    rows = connection.execute(
        "SELECT * FROM runs WHERE kind = ? AND status != ? AND ended_at >= ? AND ended_at < ? "
        "ORDER BY ended_at, id",
        (kind, RUNNING, start, end),
    ).fetchall()
    return [run_from(row) for row in rows]


def runs_for_period(connection: sqlite3.Connection, since: float, until: float) -> list[Run]:
    """Every run that started in [since, until), and before `since` the last successful run of
    each job (kind, plan, repository, subject): what a period's report reads. Oldest first.

    Each job's run is found from the jobs table through the index by job and start time: a
    few lookups, where grouping the whole history before `since` read every run of it."""
    rows = connection.execute(
        "SELECT * FROM runs WHERE started_at >= ? AND started_at < ? "
        "UNION SELECT * FROM runs WHERE id IN (SELECT (SELECT r.id FROM runs r "
        "WHERE r.kind = j.kind AND r.plan IS j.plan AND r.repository IS j.repository "
        "AND r.subject IS j.subject AND r.started_at < ? AND r.status IN (?, ?) "
        "ORDER BY r.started_at DESC, r.id DESC LIMIT 1) FROM run_jobs j) ORDER BY id",
        (since, until, since, OK, WARNING),
    ).fetchall()
    return [run_from(row) for row in rows]


def failed_on(connection: sqlite3.Connection, repository: str, since: float) -> list[Run]:
    """The runs on `repository` that failed since `since`, oldest first."""
    rows = connection.execute(
        "SELECT * FROM runs WHERE repository = ? AND started_at >= ? AND status = ? ORDER BY id",
        (repository, since, FAILED),
    ).fetchall()
    return [run_from(row) for row in rows]
