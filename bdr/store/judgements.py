"""Each backup's verdict (clean or suspect of ransomware) and the technician's review of it.

A suspect snapshot stays *open* until a technician clears it (a false positive: the plan's
normal learns from it) or, confirmed, for as long as it exists. From the oldest open suspect
snapshot on, nothing of the plan is clean: a backup after an attack holds the attacked files
even when it changed nothing itself. That moment, `boundary`, is what retention, restore and
the last clean restore point are measured against, in every tier (a copy keeps its
snapshot's time).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from bdr.store.database import History

CLEARED = "cleared"
CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Judgement:
    plan: str
    repository: str
    snapshot_id: str
    snapshot_time: float
    run_id: int | None
    judged_at: float
    suspect: bool
    signals: tuple[dict[str, Any], ...]  # kind, strong, text, examples
    total: int
    previous_total: int
    new: int
    changed: int
    deleted: int
    renamed: int
    moved: int
    patterns_version: str
    review: str | None = None
    reviewed_at: float | None = None
    review_note: str | None = None

    @property
    def open(self) -> bool:
        """Suspect and not cleared: it holds the plan's retention and taints what follows."""
        return self.suspect and self.review != CLEARED

    @property
    def clean(self) -> bool:
        """What the plan's normal learns from: judged clean, or cleared as a false positive."""
        return not self.suspect or self.review == CLEARED

    @property
    def reason(self) -> str:
        return "; ".join(str(signal.get("text", "")) for signal in self.signals)


_COLUMNS = (
    "plan, repository, snapshot_id, snapshot_time, run_id, judged_at, suspect, signals, total, "
    "previous_total, new, changed, deleted, renamed, moved, patterns_version"
)


def _judgement(row: sqlite3.Row) -> Judgement:
    values = {key: row[key] for key in row.keys()}  # noqa: SIM118 (sqlite3.Row)
    values["suspect"] = bool(values["suspect"])
    values["signals"] = tuple(json.loads(values["signals"]))
    return Judgement(**values)


def record(db: History, judgement: Judgement) -> None:
    db.execute(
        f"INSERT OR REPLACE INTO judgements ({_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            judgement.plan,
            judgement.repository,
            judgement.snapshot_id,
            judgement.snapshot_time,
            judgement.run_id,
            judgement.judged_at,
            int(judgement.suspect),
            json.dumps(list(judgement.signals), sort_keys=True),
            judgement.total,
            judgement.previous_total,
            judgement.new,
            judgement.changed,
            judgement.deleted,
            judgement.renamed,
            judgement.moved,
            judgement.patterns_version,
        ),
    )


def recent_clean(db: History, plan: str, repository: str, limit: int) -> list[Judgement]:
    """The plan's `limit` newest judgements in `repository` its normal learns from."""
    rows = db.execute(
        "SELECT * FROM judgements WHERE plan = ? AND repository = ? "
        "AND (suspect = 0 OR review = ?) ORDER BY snapshot_time DESC LIMIT ?",
        (plan, repository, CLEARED, limit),
    ).fetchall()
    return [_judgement(row) for row in rows]


def open_suspects(db: History, plan: str | None = None) -> list[Judgement]:
    """The open suspect snapshots (of `plan`, or of every plan), oldest first."""
    where = "suspect = 1 AND (review IS NULL OR review != ?)"
    args: tuple[Any, ...] = (CLEARED,)
    if plan is not None:
        where += " AND plan = ?"
        args += (plan,)
    rows = db.execute(f"SELECT * FROM judgements WHERE {where} ORDER BY snapshot_time", args)
    return [_judgement(row) for row in rows]


def boundary(db: History, plan: str) -> float | None:
    """The time of the plan's oldest open suspect snapshot: no snapshot of the plan taken then
    or later is clean, in any tier. None when none is open."""
    row = db.execute(
        "SELECT MIN(snapshot_time) FROM judgements WHERE plan = ? AND suspect = 1 "
        "AND (review IS NULL OR review != ?)",
        (plan, CLEARED),
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def suspects(db: History, plan: str | None = None) -> list[Judgement]:
    """Every snapshot ever judged suspect (of `plan`), reviewed or not, newest first."""
    where, args = ("suspect = 1", ()) if plan is None else ("suspect = 1 AND plan = ?", (plan,))
    rows = db.execute(f"SELECT * FROM judgements WHERE {where} ORDER BY snapshot_time DESC", args)
    return [_judgement(row) for row in rows]


def of_plan(db: History, plan: str) -> list[Judgement]:
    """Every judgement of `plan`'s snapshots, oldest first."""
    rows = db.execute(
        "SELECT * FROM judgements WHERE plan = ? ORDER BY snapshot_time", (plan,)
    ).fetchall()
    return [_judgement(row) for row in rows]


def matching(db: History, snapshot_id: str) -> list[Judgement]:
    """The judgements of the snapshot `snapshot_id` names: a judged id that begins with it (a
    technician's short id), or one it begins with (restic's full id; a backup's summary
    gives the short one, which is what is stored)."""
    rows = db.execute(
        "SELECT * FROM judgements WHERE substr(snapshot_id, 1, ?) = ? "
        "OR substr(?, 1, length(snapshot_id)) = snapshot_id",
        (len(snapshot_id), snapshot_id, snapshot_id),
    )
    return [_judgement(row) for row in rows]


def set_review(db: History, judgement: Judgement, review: str, note: str, now: float) -> None:
    db.execute(
        "UPDATE judgements SET review = ?, reviewed_at = ?, review_note = ? "
        "WHERE repository = ? AND snapshot_id = ?",
        (review, now, note, judgement.repository, judgement.snapshot_id),
    )
