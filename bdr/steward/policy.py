"""Which snapshots of a cloud the steward keeps, and which it does not trust (pure).

Measured from now on the steward's clock, never from the newest snapshot (restic's
keep-within is relative to the newest one): a compromised appliance that writes a snapshot
dated 2030 would otherwise push every real one out of the window. A snapshot is *forged*
when it claims a time in the future, or a time long before the steward's previous look at
the repository while it was not there then (back-dated). Forged snapshots take no part in
the decision and are never forgotten by it: the MSP looks at them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bdr.config.model import Keep

# Clocks of an appliance and the steward differ a little; more than this is a forged time.
FUTURE_TOLERANCE = 300.0


@dataclass(frozen=True)
class Listed:
    id: str
    time: float
    group: tuple[str, ...]  # the snapshot's tags: one plan's snapshots are decided together


def forged(
    listed: Sequence[Listed],
    *,
    now: float,
    previous_look: float | None,
    seen_before: set[str],
    max_backup_time: float,
) -> dict[str, str]:
    """Snapshot id -> why it is not trusted."""
    found: dict[str, str] = {}
    for snapshot in listed:
        if snapshot.time > now + FUTURE_TOLERANCE:
            found[snapshot.id] = "dated in the future"
        elif (
            previous_look is not None
            and snapshot.id not in seen_before
            and snapshot.time < previous_look - max_backup_time
        ):
            found[snapshot.id] = "back-dated: not there at the previous look, dated long before it"
    return found


_BUCKETS: dict[str, Callable[[datetime], tuple[int, ...]]] = {
    "within_hourly": lambda t: (t.year, t.month, t.day, t.hour),
    "within_daily": lambda t: (t.year, t.month, t.day),
    "within_weekly": lambda t: tuple(t.isocalendar()[:2]),
    "within_monthly": lambda t: (t.year, t.month),
    "within_yearly": lambda t: (t.year,),
}


def kept(listed: Sequence[Listed], keep: Keep, *, now: float, zone: tzinfo) -> set[str]:
    """The trusted snapshots `keep` keeps, group by group; the newest of each group always."""
    groups: dict[tuple[str, ...], list[Listed]] = defaultdict(list)
    for snapshot in listed:
        groups[snapshot.group].append(snapshot)
    chosen: set[str] = set()
    for members in groups.values():
        newest_first = sorted(members, key=lambda s: s.time, reverse=True)
        chosen.add(newest_first[0].id)
        if keep.within is not None:
            chosen |= {s.id for s in newest_first if s.time >= now - keep.within}
        for name, bucket in _BUCKETS.items():
            window = getattr(keep, name)
            if window is None:
                continue
            taken: set[tuple[int, ...]] = set()
            for snapshot in newest_first:
                if snapshot.time < now - window:
                    break
                key = bucket(datetime.fromtimestamp(snapshot.time, zone))
                if key not in taken:
                    taken.add(key)
                    chosen.add(snapshot.id)
    return chosen
