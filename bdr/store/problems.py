"""Problems in the history: one open row per key, opened once, resolved once."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from bdr.store.database import History

FAILURE = "failure"
WARNING = "warning"
INFO = "info"
SEVERITIES = (INFO, WARNING, FAILURE)  # in rising order


@dataclass(frozen=True)
class Problem:
    id: int
    key: str  # <appliance>:<kind>:<scope>
    kind: str
    scope: str
    severity: str
    title: str  # the one-line reason it opened with: the subject stays the same
    opened_at: float
    opened_by: int | None
    last_run: int | None
    last_reason: str
    occurrences: int
    notified_at: float | None
    resolved_at: float | None
    resolved_by: int | None


def _problem(row: sqlite3.Row) -> Problem:
    return Problem(**{key: row[key] for key in row.keys()})  # noqa: SIM118 (sqlite3.Row)


def open_problem(
    db: History,
    *,
    key: str,
    kind: str,
    scope: str,
    severity: str,
    title: str,
    reason: str,
    run: int | None,
    now: float,
) -> Problem:
    cursor = db.execute(
        "INSERT INTO problems (key, kind, scope, severity, title, opened_at, opened_by, "
        "last_run, last_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key, kind, scope, severity, title, now, run, run, reason),
    )
    found = get(db, int(cursor.lastrowid or 0))
    assert found is not None
    return found


def get(db: History, problem_id: int) -> Problem | None:
    row = db.execute("SELECT * FROM problems WHERE id = ?", (problem_id,)).fetchone()
    return _problem(row) if row else None


def open_for(db: History, key: str) -> Problem | None:
    row = db.execute(
        "SELECT * FROM problems WHERE key = ? AND resolved_at IS NULL", (key,)
    ).fetchone()
    return _problem(row) if row else None


def all_open(db: History) -> list[Problem]:
    rows = db.execute("SELECT * FROM problems WHERE resolved_at IS NULL ORDER BY id").fetchall()
    return [_problem(row) for row in rows]


def recent(db: History, limit: int = 20) -> list[Problem]:
    rows = db.execute(
        "SELECT * FROM problems WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [_problem(row) for row in rows]


def seen_again(db: History, problem: Problem, *, reason: str, run: int | None) -> None:
    db.execute(
        "UPDATE problems SET occurrences = occurrences + 1, last_reason = ?, "
        "last_run = COALESCE(?, last_run) WHERE id = ?",
        (reason, run, problem.id),
    )


def notified(db: History, problem: Problem, now: float) -> None:
    db.execute("UPDATE problems SET notified_at = ? WHERE id = ?", (now, problem.id))


def resolve(db: History, problem: Problem, *, run: int | None, now: float) -> None:
    db.execute(
        "UPDATE problems SET resolved_at = ?, resolved_by = ? WHERE id = ?",
        (now, run, problem.id),
    )


def open_counts(db: History) -> dict[str, int]:
    """Open problems by severity, every severity present (0 when none)."""
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for row in db.execute(
        "SELECT severity, COUNT(*) AS n FROM problems WHERE resolved_at IS NULL GROUP BY severity"
    ):
        counts[row["severity"]] = row["n"]
    return counts


def as_json(problem: Problem) -> dict[str, Any]:
    return {key: getattr(problem, key) for key in Problem.__dataclass_fields__}
