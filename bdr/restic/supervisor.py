"""Who stops bdr's restic processes: one Supervisor per daemon or per command line.

It holds every restic the owner has running and how far the owner's stop has gone. A stop
comes in two steps, as the daemon's SIGTERM does: `drain()` ends every wait for a repository
(a queued run has started nothing) while running ones go on; `stop()` then asks each restic to
end as Ctrl-C would (restic removes its own lock) and starts no other. Both wake the waiters at
once, through a condition rather than a poll. A test makes one afresh; nothing of it lives in a
module.
"""

from __future__ import annotations

import signal
import threading
from typing import Protocol

from bdr.errors import Interrupted


class Process(Protocol):
    """A started process, as the supervisor and the runner stop it (a `subprocess.Popen`)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def send_signal(self, sig: int) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class Supervisor:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._live: dict[int, Process] = {}
        self._signalled: set[int] = set()
        self._draining = False
        self._stopping = False

    @property
    def draining(self) -> bool:
        """Whether runs that still wait for a repository must give up."""
        return self._draining

    @property
    def stopping(self) -> bool:
        """Whether restic is being stopped: nothing new starts."""
        return self._stopping

    def drain(self) -> None:
        """End every wait for a repository (interrupted); running commands go on."""
        with self._changed:
            self._draining = True
            self._changed.notify_all()

    def refuse_if_stopping(self, what: str) -> None:
        """Raise Interrupted when the owner is stopping: nothing new starts then."""
        if self._stopping:
            raise Interrupted(f"bdr is shutting down; {what}")

    def hold(self, process: Process) -> None:
        """Take `process` into the supervisor's care; one started as `stop()` ran is stopped."""
        with self._changed:
            self._live[process.pid] = process
            if self._stopping:
                self._interrupt(process)

    def release(self, process: Process) -> bool:
        """Let go of `process` (it has exited); return whether `stop()` interrupted it."""
        with self._changed:
            if self._live.get(process.pid) is process:
                del self._live[process.pid]
            stopped = process.pid in self._signalled
            self._signalled.discard(process.pid)
            return stopped

    def live(self, pid: int | None) -> Process | None:
        """The held process of `pid`, if it still is held: a pid that was waited for may be
        reused by another program, which must never get bdr's signal."""
        with self._changed:
            return self._live.get(pid) if pid is not None else None

    def stop(self) -> int:
        """Stop every held restic as Ctrl-C would, start none from now on, and wake every
        waiter; return how many processes there were. Their runs end as interrupted."""
        with self._changed:
            self._draining = self._stopping = True
            processes = list(self._live.values())
            for process in processes:
                if process.poll() is None:
                    self._interrupt(process)
            self._changed.notify_all()
        return len(processes)

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`, ending early at `drain()` or `stop()`; return whether one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._draining, timeout=seconds)

    def wait_stopped(self, seconds: float) -> bool:
        """Wait up to `seconds`, ending early at `stop()`; return whether it came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._stopping, timeout=seconds)

    def _interrupt(self, process: Process) -> None:
        self._signalled.add(process.pid)
        process.send_signal(signal.SIGINT)
