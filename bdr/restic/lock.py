"""The per-repository lock between bdr's own runs, with restic's semantics: shared or alone.

restic lets backups, copies and restores of one repository run side by side (non-exclusive
locks), while `check`, `forget` and `prune` need it alone and fail at once when anything else
holds it. bdr queues its runs the same way here (`state_dir/locks/<repository>.lock`, flock
shared or exclusive): a technician's restore starts while a days-long copy to the cloud runs,
and a check or prune waits for both (and never starts while they run) instead of failing.
Who holds a lock is written to `<repository>.holders/<pid>-<n>` for whoever waits.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bdr.errors import Interrupted, RepositoryBusyError
from bdr.restic.supervisor import Supervisor

log = logging.getLogger(__name__)

# flock offers no wait with a timeout: the lock is tried again this often. The supervisor's
# drain ends the wait at once.
POLL_SECONDS = 0.2
# A run that waits says so again this often, with how long it has waited.
REMIND_SECONDS = 60.0
_numbers = itertools.count(1)


@contextlib.contextmanager
def repository_lock(
    state_dir: Path,
    repository: str,
    *,
    timeout: float,
    purpose: str,
    supervisor: Supervisor,
    exclusive: bool = True,
    on_wait: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    kind: str = "repository",
) -> Iterator[None]:
    """Hold the bdr lock of `repository` for the duration of the block: alone (`exclusive`),
    or beside other shared holders.

    Waits up to `timeout` seconds for other bdr runs; calls `on_wait` with a message naming
    the holders when it has to wait, and again every REMIND_SECONDS with how long it has
    waited. Raises RepositoryBusyError after the timeout, and Interrupted when `supervisor`
    drains meanwhile: a run still waiting has started nothing, so it gives up at once instead
    of holding a daemon's stop until its lock_timeout.
    """
    # A plan's lock (two backups of one plan never run at once) lives apart from the
    # repositories': a plan may share a repository's name.
    directory = state_dir / "locks" if kind == "repository" else state_dir / "locks" / kind
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{repository}.lock"
    holders = directory / f"{repository}.holders"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    mine: Path | None = None
    try:
        started = clock()
        told_at: float | None = None
        while True:
            try:
                fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holders(holders)
                waited = clock() - started
                if supervisor.draining:
                    raise Interrupted(
                        f"stopped while waiting for {kind} {repository!r}: {holder}"
                    ) from None
                if waited >= timeout:
                    raise RepositoryBusyError(
                        f"{kind} {repository!r} is busy: {holder}; gave up after {timeout:.0f}s",
                        hint="try again later, or raise appliance.lock_timeout",
                    ) from None
                if told_at is None or clock() - told_at >= REMIND_SECONDS:
                    alone = " alone" if exclusive else ""
                    how = "" if told_at is None else f" (waited {_age(waited)} so far)"
                    message = f"waiting for {kind} {repository!r}{alone}{how}: {holder}"
                    log.info(message)
                    if on_wait is not None:
                        on_wait(message)
                    told_at = clock()
                supervisor.wait(POLL_SECONDS)
        # Who holds it, for whoever waits: not worth failing a run over (a full state_dir).
        with contextlib.suppress(OSError):
            holders.mkdir(exist_ok=True)
            mine = holders / f"{os.getpid()}-{next(_numbers)}"
            mine.write_text(f"{os.getpid()} {time.time():.0f} {purpose}\n")
        yield
    finally:
        if mine is not None:
            with contextlib.suppress(OSError):
                mine.unlink()
        os.close(descriptor)


def _holders(folder: Path) -> str:
    """Who holds the lock, as the holders wrote it: `pid 123: copy of plan office to cloud
    (for 3h 10m)`; the files of processes that are gone are left out."""
    found = []
    with contextlib.suppress(OSError):
        for entry in sorted(folder.iterdir()):
            with contextlib.suppress(OSError, ValueError):
                pid_text, since, purpose = entry.read_text().strip().split(" ", 2)
                pid = int(pid_text)
                if pid != os.getpid():
                    os.kill(pid, 0)  # ProcessLookupError (an OSError) when it is gone
                age = _age(time.time() - float(since))
                found.append(f"pid {pid}: {purpose} (for {age})")
    return "held by " + "; ".join(found) if found else "held by another bdr process"


def _age(seconds: float) -> str:
    """`45s`, `12m`, `3h 10m`: how long a holder has held, or a run waited."""
    whole = int(max(0.0, seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


@contextlib.contextmanager
def repository_locks(
    state_dir: Path,
    repositories: list[str],
    *,
    timeout: float,
    purpose: str,
    supervisor: Supervisor,
    exclusive: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the locks of several repositories, in name order so that two callers cannot deadlock."""
    with contextlib.ExitStack() as stack:
        for name in sorted(set(repositories)):
            stack.enter_context(
                repository_lock(
                    state_dir,
                    name,
                    timeout=timeout,
                    purpose=purpose,
                    supervisor=supervisor,
                    exclusive=exclusive,
                    on_wait=on_wait,
                )
            )
        yield
