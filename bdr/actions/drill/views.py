"""What `bdr drill list` and `bdr drill history` show, built from the typed history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bdr.config.model import Config
from bdr.errors import unknown_name
from bdr.store import drills
from bdr.store.database import History


@dataclass(frozen=True)
class DrillListRow:
    drill: str
    plan: str
    repository: str
    kind: str
    schedule: str
    rto_seconds: int
    last_run: float | None
    last_verdict: str | None

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class DrillHistoryRow:
    run_id: int
    drill: str | None
    plan: str | None
    repository: str | None
    ended_at: float | None
    snapshot_id: str | None
    kind: str
    measured_seconds: float | None
    projected_seconds: float | None
    rto_seconds: int | None
    verdict: str
    reason: str
    projection_method: str | None = None  # measured | history | calibrated | uncalibrated

    @property
    def headroom_seconds(self) -> float | None:
        """The RTO less the (projected) recovery time; negative when over."""
        if self.projected_seconds is None or self.rto_seconds is None:
            return None
        return self.rto_seconds - self.projected_seconds

    def as_json(self) -> dict[str, Any]:
        return {**vars(self), "headroom_seconds": self.headroom_seconds}


def drill_list(config: Config, db: History) -> list[DrillListRow]:
    """Return every configured drill with its last verdict."""
    rows = []
    for name, item in config.drills.items():
        last = drills.last(db, name)
        rows.append(
            DrillListRow(
                drill=name,
                plan=item.plan,
                repository=item.repository,
                kind=item.kind,
                schedule=item.schedule,
                rto_seconds=item.rto,
                last_run=last.run.ended_at if last else None,
                last_verdict=last.outcome.verdict if last else None,
            )
        )
    return rows


def drill_history(
    config: Config, db: History, name: str | None, *, limit: int
) -> list[DrillHistoryRow]:
    """Return past drills (of `name`, or all), newest first.

    Raises UsageError for a drill name that is not configured.
    """
    if name is not None and name not in config.drills:
        raise unknown_name("drill", name, config.drills)
    return [
        DrillHistoryRow(
            run_id=past.run.id,
            drill=past.run.subject,
            plan=past.run.plan,
            repository=past.run.repository,
            ended_at=past.run.ended_at,
            snapshot_id=past.run.snapshot_id,
            kind=past.outcome.drill_kind,
            measured_seconds=past.outcome.recovery_seconds,
            projected_seconds=past.outcome.projected_seconds,
            projection_method=past.outcome.projection_method,
            rto_seconds=past.outcome.rto,
            verdict=past.outcome.verdict,
            reason=past.outcome.reason or past.run.error or "",
        )
        for past in drills.history(db, drill=name, limit=limit)
    ]
