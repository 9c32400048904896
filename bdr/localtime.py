"""The appliance's local time zone, with its rules: schedules and `--as-of` are local times.

A fixed offset (what `datetime.now().astimezone()` gives) is wrong for half the year where
daylight saving time applies; the zone comes from $TZ, else /etc/localtime.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bdr.errors import UsageError


def zone() -> tzinfo:
    """Return the local time zone with its DST rules (a fixed offset if none can be found)."""
    name = zone_name()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    fixed = datetime.now().astimezone().tzinfo
    assert fixed is not None
    return fixed


def zone_name() -> str | None:
    """Return the IANA name of the local zone (`Europe/Berlin`), or None when unknown."""
    configured = os.environ.get("TZ", "").lstrip(":")
    if configured:
        return configured
    target = os.path.realpath("/etc/localtime")
    _, found, name = target.partition("/zoneinfo/")
    return name if found else None


# What bdr accepts as a time a person typed: snapshots exist from 1970 on, and a year past 9999
# cannot be written as a date.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 1, tzinfo=UTC)


def in_range(moment: datetime, *, what: str) -> datetime:
    """Return `moment` (aware) when it lies from 1970 to 9999; raise UsageError naming `what`
    (the option and the text the user typed) otherwise."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise UsageError(f"{what} is out of range: give a time from 1970 to 9999")
    return moment


def with_offset(moment: datetime) -> str:
    """Return a local time with its UTC offset: `2026-10-25 02:30:00+01:00`."""
    local = moment.astimezone(zone())
    return local.isoformat(sep=" ", timespec="seconds")


def localise(naive: datetime, *, what: str) -> datetime:
    """Return the naive local time `naive` as an aware datetime.

    Raises UsageError for a time that does not exist (skipped by a change to summer time) or
    that exists twice (repeated by the change back), naming the readings and how to write one.
    """
    local = zone()
    early = naive.replace(tzinfo=local, fold=0)
    late = naive.replace(tzinfo=local, fold=1)
    name = zone_name() or "the local time zone"
    text = naive.strftime("%Y-%m-%d %H:%M")
    if early.utcoffset() == late.utcoffset():
        return early
    if _round_trips(early) or _round_trips(late):
        readings = " or ".join(f"{text}{_offset(x)}" for x in (early, late))
        raise UsageError(
            f"{what} {text} happens twice in {name} (the clocks went back): write {readings}"
        )
    before, after = sorted((early.utcoffset() or timedelta(), late.utcoffset() or timedelta()))
    raise UsageError(
        f"{what} {text} does not exist in {name} (the clocks went forward); "
        f"write the offset, e.g. {text}{_format_offset(before)} or {text}{_format_offset(after)}"
    )


def _round_trips(moment: datetime) -> bool:
    back = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _offset(moment: datetime) -> str:
    return _format_offset(moment.utcoffset() or timedelta())


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
