"""The per-repository lock that keeps bdr processes from running restic on one repository at once.

restic's own repository lock lets two backups run side by side and makes an exclusive command
fail at once; bdr instead queues its own runs here (`state_dir/locks/<repository>.lock`) so the
daemon and a technician's manual command wait their turn instead of failing.
"""

from __future__ import annotations

import contextlib
import fcntl
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


@contextlib.contextmanager
def repository_lock(
    state_dir: Path,
    repository: str,
    *,
    timeout: float,
    purpose: str,
    supervisor: Supervisor,
    on_wait: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold the bdr lock of `repository` for the duration of the block.

    Waits up to `timeout` seconds for another bdr process; calls `on_wait` once with a message
    naming the holder when it has to wait. Raises RepositoryBusyError after the timeout, and
    Interrupted when `supervisor` drains meanwhile: a run still waiting has started nothing, so
    it gives up at once instead of holding a daemon's stop until its lock_timeout.
    """
    directory = state_dir / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{repository}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = clock() + timeout
        told = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(descriptor)
                if supervisor.draining:
                    raise Interrupted(
                        f"stopped while waiting for repository {repository!r}: {holder}"
                    ) from None
                if clock() >= deadline:
                    raise RepositoryBusyError(
                        f"repository {repository!r} is busy: {holder}; gave up after "
                        f"{timeout:.0f}s",
                        hint="try again later, or raise appliance.lock_timeout",
                    ) from None
                if not told:
                    message = f"waiting for repository {repository!r}: {holder}"
                    log.info(message)
                    if on_wait is not None:
                        on_wait(message)
                    told = True
                supervisor.wait(POLL_SECONDS)
        # Who holds it, for whoever waits: not worth failing a run over (a full state_dir).
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"pid {os.getpid()}: {purpose}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)


def _read_holder(descriptor: int) -> str:
    text = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
    return f"held by {text}" if text else "held by another bdr process"


@contextlib.contextmanager
def repository_locks(
    state_dir: Path,
    repositories: list[str],
    *,
    timeout: float,
    purpose: str,
    supervisor: Supervisor,
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
                    on_wait=on_wait,
                )
            )
        yield
