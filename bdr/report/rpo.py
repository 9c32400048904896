"""The recovery point of a tier: the age of its newest snapshot, over the period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bdr.report.model import SUCCEEDED
from bdr.store.outcomes import CopyOutcome
from bdr.store.runs import Run


@dataclass(frozen=True)
class _Arrival:
    """A snapshot became the tier's newest at `at`; it was taken at `taken`."""

    at: float
    taken: float
    run: int


def arrivals_of(all_runs: Sequence[Run], plan: str, repository: str, own: bool) -> list[_Arrival]:
    """When each newer snapshot reached the tier: backups for the plan's own repository,
    copies for the others. In the order of runs, like the newest snapshot bdr records."""
    backups = [
        run
        for run in all_runs
        if run.kind == "backup"
        and run.plan == plan
        and run.status in SUCCEEDED
        and run.snapshot_id
        and run.ended_at is not None
    ]
    found: list[_Arrival] = []
    if own:
        # restic stamps a snapshot with the backup's start; the start bounds it from below.
        found = [
            _Arrival(run.ended_at, run.started_at, run.id)
            for run in backups
            if run.repository == repository and run.ended_at is not None
        ]
    else:
        for run in all_runs:
            if not (
                run.kind == "copy"
                and run.plan == plan
                and run.repository == repository
                and run.status in SUCCEEDED
                and run.snapshot_id
                and run.ended_at is not None
            ):
                continue
            taken = run.outcome.snapshot_time if isinstance(run.outcome, CopyOutcome) else None
            if taken is None:
                taken = _backup_time(backups, run)
            if taken is not None:
                found.append(_Arrival(run.ended_at, taken, run.id))
    found.sort(key=lambda arrival: (arrival.at, arrival.run))
    return found


def _backup_time(backups: Sequence[Run], copy: Run) -> float | None:
    """The snapshot time of the backup a copy carried: by its id, else the last one before."""
    for run in backups:
        assert run.snapshot_id is not None and copy.snapshot_id is not None
        if run.snapshot_id.startswith(copy.snapshot_id) or copy.snapshot_id.startswith(
            run.snapshot_id
        ):
            return run.started_at
    before = [run.started_at for run in backups if (run.ended_at or 0) <= copy.started_at]
    return max(before, default=None)


@dataclass(frozen=True)
class Recovery:
    compliance: float | None
    without_snapshot: float  # seconds of the measured time in which the tier held no snapshot
    worst_age: float | None
    worst_at: float | None
    ages: tuple[tuple[float, float | None], ...]
    runs: tuple[int, ...]
    measured_from: float = 0.0
    # A new appliance: seconds from its first run to the tier's first snapshot (not measured).
    before_first: float = 0.0


def recovery_point(arrivals: Sequence[_Arrival], start: float, end: float, rpo: float) -> Recovery:
    """Time-weighted RPO compliance over [start, end) and the saw-tooth of the snapshot age."""
    if end <= start:
        return Recovery(None, 0.0, None, None, (), ())
    earlier = [a for a in arrivals if a.at <= start]
    during = [a for a in arrivals if start < a.at < end]
    current = earlier[-1] if earlier else None
    vertices: list[tuple[float, float | None]] = [
        (start, start - current.taken if current else None)
    ]
    compliant = without = 0.0
    worst: tuple[float, float] | None = None  # (age, at)
    cursor = start
    for arrival in [*during, None]:
        until = arrival.at if arrival else end
        if current is not None:
            # The age grows from cursor - taken to until - taken; compliant while age <= rpo
            # (a snapshot stamped in the future by a clock that jumped counts as young).
            compliant += max(0.0, min(until, current.taken + rpo) - cursor)
            age = until - current.taken
            vertices.append((until, age))
            if worst is None or age > worst[0]:
                worst = (age, until)
        else:
            vertices.append((until, None))
            without += until - cursor
        if arrival is not None:
            current = arrival
            vertices.append((until, until - arrival.taken))
        cursor = until
    share = min(1.0, compliant / (end - start))
    used = ([earlier[-1].run] if earlier else []) + [a.run for a in during]
    return Recovery(
        share,
        without,
        worst[0] if worst else None,
        worst[1] if worst else None,
        tuple(vertices),
        tuple(used),
    )
