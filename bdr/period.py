"""Report periods: calendar months in the appliance's local time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from bdr.errors import UsageError


@dataclass(frozen=True)
class Period:
    """The month `YYYY-MM` as [start, end) timestamps; `partial` when it had not ended yet."""

    month: str
    start: float
    end: float
    partial: bool

    @property
    def length(self) -> float:
        return self.end - self.start


def _first_of(month: str, zone: tzinfo) -> datetime:
    try:
        first = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise UsageError(f"--month {month!r} is not YYYY-MM") from None
    if not 1970 <= first.year <= 9998:
        raise UsageError(f"--month {month!r} is out of range: give a month from 1970 to 9998")
    return first.replace(tzinfo=zone)


def month_bounds(month: str, zone: tzinfo) -> tuple[float, float]:
    """Return [start, end) of `YYYY-MM` in `zone`, as timestamps (a DST month is not 30 days)."""
    start = _first_of(month, zone)
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.timestamp(), end.timestamp()


def month_of(moment: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(moment, zone).strftime("%Y-%m")


def last_full_month(now: float, zone: tzinfo) -> str:
    """The month before the one `now` falls in: the default of `bdr report`."""
    today = datetime.fromtimestamp(now, zone)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def period(month: str, *, now: float, zone: tzinfo) -> Period:
    """Return the period of `month` as seen at `now`: the current month ends at `now` (partial).

    Raises UsageError for a month that has not begun.
    """
    start, end = month_bounds(month, zone)
    if start > now:
        raise UsageError(f"--month {month} has not begun yet")
    if end > now:
        return Period(month, start, now, partial=True)
    return Period(month, start, end, partial=False)
