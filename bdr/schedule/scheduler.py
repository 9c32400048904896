"""APScheduler 3 behind a small interface: cron jobs in local time, a bounded worker pool.

Jobs never run twice at once (max_instances=1), late runs are coalesced into one, and a run
that is late (the box was busy) still runs (misfire_grace_time=None). Runs missed while the
daemon was down are found from the stored last fire times: one run each at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bdr.schedule import cron as crontab
from bdr.schedule.clock import REAL, Clock
from bdr.schedule.jobs import JobSpec

log = logging.getLogger(__name__)


def local_timezone() -> tzinfo:
    """The local zone with its DST rules: a fixed offset would run jobs an hour off for half
    the year."""
    from bdr.localtime import zone

    return zone()


def trigger_for(cron: str, timezone: tzinfo, clock: Clock = REAL) -> Any:
    """Return the trigger of `cron` on `clock` (APScheduler's own trigger on real time)."""
    trigger = crontab.trigger(cron, timezone)
    if clock.real:
        return trigger
    from apscheduler.triggers.base import BaseTrigger

    class ClockedTrigger(BaseTrigger):  # type: ignore[misc]
        """Fires when `cron` fires on the schedule's clock, translated into real time."""

        def get_next_fire_time(
            self, previous_fire_time: datetime | None, now: datetime
        ) -> datetime | None:
            # A millisecond past the previous fire: converting between the clocks rounds, and a
            # slot found again would make APScheduler loop on it for ever.
            moment = _on(clock, now)
            previous = None
            if previous_fire_time is not None:
                previous = _on(clock, previous_fire_time) + timedelta(milliseconds=1)
                moment = max(moment, previous)
            fire: datetime | None = trigger.get_next_fire_time(previous, moment)
            if fire is None:
                return None
            return datetime.fromtimestamp(clock.to_real(fire.timestamp()), timezone)

    def _on(clock: Clock, moment: datetime) -> datetime:
        return datetime.fromtimestamp(clock.to_schedule(moment.timestamp()), timezone)

    return ClockedTrigger()


def next_fire(cron: str, after: datetime, timezone: tzinfo) -> datetime | None:
    """Return the first time `cron` fires strictly after `after` (both on one clock)."""
    trigger = crontab.trigger(cron, timezone)
    fire: datetime | None = trigger.get_next_fire_time(None, after)
    if fire is not None and fire <= after:
        # APScheduler's "next" includes `after` itself when it matches exactly.
        fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    return fire


def missed_jobs(
    specs: Iterable[JobSpec],
    last_fires: dict[str, float | None],
    now: datetime,
    timezone: tzinfo,
    clock: Clock = REAL,
) -> list[JobSpec]:
    """Return the jobs with a slot between their last run (a real time) and `now` (on the
    schedules' clock): each is run once, however many slots passed.

    A job the daemon never ran has no last run to miss from; it waits for its next slot.
    """
    missed = []
    for spec in specs:
        last = last_fires.get(spec.job_id)
        if last is None:
            continue
        since = datetime.fromtimestamp(clock.to_schedule(last), timezone)
        fire = next_fire(spec.cron, since, timezone)
        if fire is not None and fire <= now:
            missed.append(spec)
    return missed


class Scheduler:
    """The daemon's scheduler: `run` is called with a JobSpec in a worker thread."""

    def __init__(
        self,
        run: Callable[[JobSpec], None],
        *,
        max_parallel: int,
        timezone: tzinfo,
        clock: Clock = REAL,
    ) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.timezone = timezone
        self.clock = clock
        self._run = run
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max_parallel)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=timezone,
        )

    def start(self, specs: list[JobSpec]) -> None:
        self.replace(specs)
        self._scheduler.start()

    def replace(self, specs: list[JobSpec]) -> None:
        """Schedule exactly `specs` (used at start and on reload)."""
        self._scheduler.remove_all_jobs()
        for spec in specs:
            self._scheduler.add_job(
                self._run,
                trigger_for(spec.cron, self.timezone, self.clock),
                args=[spec],
                id=spec.job_id,
                name=spec.job_id,
                replace_existing=True,
            )

    def run_soon(self, spec: JobSpec) -> None:
        """Run `spec` once now (a missed run), besides its cron schedule."""
        self._scheduler.add_job(
            self._run,
            args=[spec],
            id=f"{spec.job_id}:catch-up",
            name=f"{spec.job_id} (missed run)",
            replace_existing=True,
        )

    def next_runs(self) -> dict[str, datetime | None]:
        return {
            job.id: job.next_run_time
            for job in self._scheduler.get_jobs()
            if not job.id.endswith(":catch-up")
        }

    def shutdown(self) -> None:
        """Start no new runs; running ones go on (the daemon decides how long to wait)."""
        self._scheduler.shutdown(wait=False)
