"""Cron expressions as bdr reads them: five fields, local time, APScheduler 3 underneath.

An expression is valid when APScheduler builds a trigger of it that fires: the config's check
and the daemon's schedule are the same code, so they cannot disagree. Only the day of the week
is bdr's own: cron counts from Sunday (0 or 7), APScheduler from Monday, so that field is
translated into day names first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_ARGUMENTS = ("minute", "hour", "day", "month", "day_of_week")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# APScheduler's own words start by quoting the whole expression again: the field says which.
_PREFIX = re.compile(r"^Error validating expression '[^']*': ")


def trigger(expression: str, timezone: tzinfo) -> Any:
    """Return the APScheduler trigger of a 5-field cron expression (ValueError naming the
    field when it is not one)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"{expression!r} must have 5 fields (minute hour day month weekday), "
            f"it has {len(fields)}"
        )
    values: dict[str, str] = {}
    for name, argument, text in zip(FIELDS, _ARGUMENTS, fields, strict=True):
        # Python's digits include full-width and Arabic-Indic ones, which APScheduler takes.
        if not text.isascii():
            raise ValueError(f"{name} {text!r} must be written in ASCII")
        try:
            value = day_of_week(text) if argument == "day_of_week" else text
            CronTrigger(**{argument: value}, timezone=timezone)  # each field alone: named
        except ValueError as error:
            raise ValueError(f"{name} {text!r}: {_PREFIX.sub('', str(error))}") from None
        values[argument] = value
    return CronTrigger(**values, timezone=timezone)


def check(expression: str) -> None:
    """Raise ValueError unless `expression` is a valid 5-field cron expression that fires."""
    built = trigger(expression, UTC)
    # APScheduler requires the day of the month and the weekday both (not either, as some
    # crons do): a day no chosen month has never comes. Looked for only in the years one
    # leap cycle holds, so that a valid schedule costs nothing.
    if built.get_next_fire_time(None, datetime(2024, 1, 1, tzinfo=UTC)) is None:
        raise ValueError(f"{expression!r} never fires: no month it names has such a day")


def day_of_week(field: str) -> str:
    """Translate a cron day-of-week field (0 or 7 = Sunday) into APScheduler's names.

    APScheduler 3 numbers days from Monday = 0, so numbers must not reach it: every value,
    range and step is expanded into a list of day names.
    """
    if field == "*":
        return field
    days: list[int] = []
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"step {step_text!r} must be a positive number")
        step = int(step_text) if slash else 1
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            bounds = base.split("-")
            if len(bounds) != 2:
                raise ValueError(f"{item!r} is not a day, a range of days or '*'")
            low, high = _day(bounds[0]), _day(bounds[1])
            if high == 0 and low > 0:  # "5-7" or "fri-sun" end on Sunday
                high = 7
            if low > high:
                raise ValueError(f"the range {base!r} runs backwards")
        else:
            low = _day(base)
            high = 6 if slash else low
        if slash and step > high - low:
            raise ValueError(f"the step {step} is larger than the range {base!r} it steps through")
        days += [value % 7 for value in range(low, high + 1, step)]
    return ",".join(_DAYS[day] for day in sorted(set(days)))


def _day(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text.lower() in _DAYS:
        return _DAYS.index(text.lower())
    raise ValueError(f"{text!r} is not a day (0-7 or sun-sat)")
