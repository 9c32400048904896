"""The daemon's evidence uploader: after runs, and until nothing waits, the evidence goes to
the cloud's evidence store (actions/upload.py).

A thread of its own, like the notifications' outbox: a cloud that is down or slow delays the
upload, never a backup. A failed upload is tried again after a pause that doubles each time,
up to an hour; everything that waits goes in the next one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bdr.actions.context import Context
from bdr.errors import BdrError

log = logging.getLogger("bdr.daemon")

LOOK_SECONDS = 60.0  # how often it looks for evidence that waits, without a run's poke
FIRST_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 3600.0


def retry_after(failures: int) -> float:
    """The pause after `failures` failed uploads in a row."""
    return min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2.0 ** max(0, failures - 1))


class Uploader(threading.Thread):
    def __init__(self, context: Callable[[], Context], monotonic: Callable[[], float]) -> None:
        super().__init__(name="evidence-upload", daemon=True)
        self._context = context
        self._monotonic = monotonic
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.failures = 0

    def poke(self) -> None:
        """A run has ended: its record (or report) waits."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        from bdr.actions.upload import upload_evidence
        from bdr.evidence.upload import waiting

        next_try = 0.0
        while not self._stopping.is_set():
            if self._monotonic() >= next_try:
                ctx = self._context()
                try:
                    if waiting(ctx.config, ctx.db):
                        upload_evidence(ctx)
                    self.failures = 0
                except BdrError as error:
                    self.failures += 1
                    pause = retry_after(self.failures)
                    next_try = self._monotonic() + pause
                    log.error("%s (trying again in %.0f s)", error.message, pause)
                except Exception as error:  # never take the daemon down; say it, try again
                    self.failures += 1
                    next_try = self._monotonic() + retry_after(self.failures)
                    log.error("evidence upload: %s", error, exc_info=True)
                finally:
                    ctx.db.close()
            self._wake.wait(LOOK_SECONDS)
            self._wake.clear()
