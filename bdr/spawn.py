"""Starting a program that bdr stops itself (restic, a hook): in a session of its own, with its
output piped, and with no interrupt lost between its start and bdr holding it."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence

from bdr import privilege


def start(argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `argv` with stdin closed and stdout and stderr piped as text (undecodable bytes
    replaced). Call it inside `interrupts_held()`, with the block that takes hold of it."""
    return subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        # Its own session: a terminal's Ctrl-C reaches bdr, which decides how to stop it.
        start_new_session=True,
        # A root restore's restic runs as the service user, but where it writes the target.
        **privilege.for_children(),
    )


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are noted, not acted on; the first one noted is
    raised again as the block ends, so that its handler runs where the caller can clean up.

    A Ctrl-C or SIGTERM that lands between a program's start and bdr holding it (inside
    Popen, before the caller's `try`) would leave the program running in its own session;
    a loaded CI run saw a restic left so, with its lock.

    Signal handlers run in the main thread only: elsewhere (the daemon's runs, a restic run
    beside another) the block holds nothing, and the daemon stops those through its
    supervisor."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []

    def note(signum: int, frame: object) -> None:
        noted.append(signum)

    held = {signum: signal.signal(signum, note) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if noted:
            signal.raise_signal(noted[0])
