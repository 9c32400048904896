"""A real `bdr daemon` process for the integration tests."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.conftest import Appliance


def wait_for(
    what: str, predicate: Callable[[], object], timeout: float = 90, pause: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(pause)


class RunningDaemon:
    """The daemon as a process. `fast`: its schedules' clock runs 60 times faster (a cron
    minute lasts a second, see fast_daemon.py); otherwise it is `bdr daemon` itself."""

    def __init__(
        self, appliance: Appliance, env: dict[str, str] | None = None, *, fast: bool = True
    ) -> None:
        self.appliance = appliance
        self.log = appliance.root / f"daemon-{time.monotonic_ns()}.log"
        config = str(appliance.config_path)
        command = (
            ["-m", "tests.integration.fast_daemon", config]
            if fast
            else ["-m", "bdr", "--config", config, "daemon"]
        )
        self.process = subprocess.Popen(
            [sys.executable, *command],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=Path(__file__).parents[2],
        )
        wait_for(
            "the daemon to be ready",
            lambda: "daemon ready" in self.text() or self.process.poll() is not None,
            60,
        )
        assert self.process.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 120) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # A daemon that ignores SIGTERM fails its test, and must not outlive it; where its
            # threads were stuck goes into the failure (the fast daemon dumps them on SIGUSR1).
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(1)
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"the daemon did not stop within {timeout:.0f}s of signal {sig}:\n"
                f"{self.text()[-6000:]}"
            ) from None


def runs(appliance: Appliance, kind: str | None = None) -> list[sqlite3.Row]:
    path = appliance.state_dir / "bdr.sqlite"
    if not path.exists():
        return []
    rows = appliance.runs()
    return [row for row in rows if kind is None or row["kind"] == kind]
