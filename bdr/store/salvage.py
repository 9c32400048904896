"""A damaged history (a bad disk sector, a zeroed page): moved aside, what reads salvaged.

Backups must go on when `bdr.sqlite` is damaged: every command would otherwise fail with
"database disk image is malformed" and systemd would restart the daemon in a loop. The damaged
file is kept (`bdr.sqlite.corrupt-<time>`, with its -wal and -shm) for a person to look at;
the new history holds every row that could still be read, and a run of kind `history` (status
warning) says what happened, for `bdr status`, the metrics and the evidence chain.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# The tables of the history, in the order they are copied; a row that conflicts is skipped.
TABLES = (
    "runs",
    "latest_snapshots",
    "check_state",
    "schedule",
    "daemon",
    "problems",
    "outbox",
    "snapshots_gone",
)
# When even the highest row id cannot be read, ids are probed up to the first run of this many
# that are all missing.
PROBE_GAP = 5000


@dataclass(frozen=True)
class Salvage:
    damage: str  # what SQLite said
    moved_to: Path
    rows: dict[str, int]  # table: rows salvaged
    lost_schema: bool  # nothing could be read: the history starts afresh

    def summary(self) -> str:
        kept = ", ".join(f"{count} {table}" for table, count in self.rows.items() if count)
        return (
            f"the history was damaged ({self.damage}); it was moved to {self.moved_to} and a new "
            f"one started with what could be read: {kept or 'nothing'}"
        )


def damage(connection: sqlite3.Connection) -> str | None:
    """What is wrong with the database, in SQLite's words; None when `quick_check` passes."""
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError:
        raise  # a full disk, an I/O error, a lock: not damage
    except sqlite3.DatabaseError as error:
        return str(error)
    found = [str(row[0]) for row in rows if row[0] != "ok"]
    return "; ".join(found[:3]) if found else None


def move_aside(path: Path, now: Callable[[], float] = time.time) -> Path:
    """Move the database and its -wal/-shm to `<name>.corrupt-<time>`; return the new path."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now()))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, f"{aside}{suffix}")
    return aside


def copy_readable(damaged: Path, fresh: sqlite3.Connection) -> tuple[dict[str, int], bool]:
    """Copy every row of every table that can be read from `damaged` into `fresh` (migrated).

    Return (rows per table, whether the schema itself was unreadable).
    """
    try:
        old = sqlite3.connect(damaged, timeout=5)
        old.execute("SELECT name FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as error:
        log.error("history %s: its schema cannot be read (%s): nothing is salvaged", damaged, error)
        return dict.fromkeys(TABLES, 0), True
    counts: dict[str, int] = {}
    try:
        for table in TABLES:
            columns = [row[1] for row in fresh.execute(f"PRAGMA table_info({table})")]
            rows = _readable_rows(old, table, columns)
            placeholders = ", ".join("?" for _ in columns)
            fresh.execute("BEGIN")
            fresh.executemany(
                f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                rows,
            )
            fresh.execute("COMMIT")
            counts[table] = len(rows)
    finally:
        old.close()
    return counts, False


def _readable_rows(
    old: sqlite3.Connection, table: str, columns: list[str]
) -> list[tuple[object, ...]]:
    wanted = ", ".join(columns)
    try:
        return old.execute(f"SELECT {wanted} FROM {table} ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:
        return []  # a table an older schema did not have
    except sqlite3.DatabaseError:
        pass
    # A damaged page stops a scan; rows on the other pages are found one id at a time.
    try:
        top = old.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0]
    except sqlite3.DatabaseError:
        top = None
    rows: list[tuple[object, ...]] = []
    rowid, missing = 0, 0
    while (top is not None and rowid < top) or (top is None and missing < PROBE_GAP):
        rowid += 1
        try:
            row = old.execute(f"SELECT {wanted} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None:
            missing += 1
        else:
            missing = 0
            rows.append(row)
    return rows
