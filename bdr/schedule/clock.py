"""The clock schedules run on: real time for the appliance, a faster one for tests.

A faster clock (`speed` 60: a cron minute lasts a real second, counted from `origin`) lets the
daemon's tests run real cron schedules in seconds; the schedule parser, the scheduler and the
daemon know nothing of tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    speed: float = 1.0
    origin: float = 0.0

    @property
    def real(self) -> bool:
        return self.speed == 1.0

    def now(self) -> float:
        """The current time on the schedule's clock."""
        return self.to_schedule(time.time())

    def to_schedule(self, real: float) -> float:
        return self.origin + (real - self.origin) * self.speed

    def to_real(self, scheduled: float) -> float:
        return self.origin + (scheduled - self.origin) / self.speed


REAL = Clock()
