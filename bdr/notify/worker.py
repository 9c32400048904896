"""The daemon's notification thread: delivers the outbox, evaluates conditions every minute.

Its own thread and its own connection: a slow SMTP server or a webhook that hangs delays
messages, never a backup, the heartbeat or the scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bdr.config.model import Config
from bdr.notify.deliver import deliver_due
from bdr.notify.engine import Notifier
from bdr.schedule.clock import Clock
from bdr.store.database import connect

log = logging.getLogger(__name__)

DELIVER_SECONDS = 5.0
EVALUATE_SECONDS = 60.0  # on the schedules' clock: a second of a 60x test clock


class Worker(threading.Thread):
    def __init__(self, config: Callable[[], Config], clock: Clock) -> None:
        super().__init__(name="notify", daemon=True)
        self._config = config
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def poke(self) -> None:
        """Deliver now: a run has just queued a message."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        db = connect(self._config().appliance.state_dir)
        last_evaluation = -EVALUATE_SECONDS
        try:
            while not self._stopping.is_set():
                config = self._config()
                now = time.monotonic()
                try:
                    if (now - last_evaluation) * self._clock.speed >= EVALUATE_SECONDS:
                        Notifier(config, db, now=self._clock.now).evaluate()
                        last_evaluation = now
                    deliver_due(config, db, now=self._clock.now)
                except Exception as error:  # never take the daemon down; say it, try again
                    log.error("notifications: %s", error, exc_info=True)
                self._wake.wait(min(DELIVER_SECONDS, EVALUATE_SECONDS / self._clock.speed))
                self._wake.clear()
        finally:
            db.close()
