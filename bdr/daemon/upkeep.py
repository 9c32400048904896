"""The evidence chain's upkeep, in a process of the daemon's own (`bdr evidence upkeep`)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger("bdr.daemon")

# How long the evidence upkeep may take to end on SIGTERM when the daemon stops.
UPKEEP_STOP_SECONDS = 10.0


def upkeep_argv(config_path: Path, *, catch_up_before: float | None) -> list[str]:
    """The command of the upkeep: with `catch_up_before` (the daemon's start), the catch-up of
    the runs the chain lacks, then the verification of the whole chain. Both read the chain or
    the history through, and the memory that takes goes back when the process ends (a first
    start over 100,000 runs kept 200 MB in the daemon for good)."""
    argv = [sys.executable, "-m", "bdr", "--config", str(config_path), "evidence", "upkeep"]
    if catch_up_before is not None:
        argv += ["--catch-up-before", repr(catch_up_before)]
    return argv


class Upkeep:
    """A process of the daemon's own (the evidence chain's upkeep), watched by a thread, and
    stopped with the daemon: outside systemd nothing else would end it."""

    def __init__(self, argv: list[str]) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, args=(argv,), daemon=True)
        self._thread.name = "evidence-upkeep"
        self._thread.start()

    def _run(self, argv: list[str]) -> None:
        with self._lock:
            if self._stopped:
                return
            try:
                # Its own session: a Ctrl-C at the daemon's terminal reaches the daemon, which
                # stops it (below) rather than leave a traceback of it on the terminal.
                self._process = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, start_new_session=True
                )
            except OSError as error:
                log.error("evidence upkeep could not start: %s", error)
                return
        self._process.wait()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """End the process (SIGTERM; an append it tore is repaired by the next one)."""
        with self._lock:
            self._stopped = True
            process = self._process
        if process is not None and process.poll() is None:
            log.info("stopping the evidence upkeep (pid %d)", process.pid)
            process.terminate()
            try:
                process.wait(timeout=UPKEEP_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._thread.join()
