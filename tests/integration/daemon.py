"""A real `bdr daemon` process for the integration tests."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable

from tests.integration.conftest import Appliance

SECONDS = {"BDR_ALLOW_SECONDS_SCHEDULES": "1"}


def wait_for(what: str, predicate: Callable[[], object], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class RunningDaemon:
    def __init__(self, appliance: Appliance, env: dict[str, str] | None = None) -> None:
        self.appliance = appliance
        self.log = appliance.root / f"daemon-{time.monotonic_ns()}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bdr", "--config", str(appliance.config_path), "daemon"],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **SECONDS, **(env or {})},
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
        return self.process.wait(timeout=timeout)


def runs(appliance: Appliance, kind: str | None = None) -> list[sqlite3.Row]:
    path = appliance.state_dir / "bdr.sqlite"
    if not path.exists():
        return []
    rows = appliance.runs()
    return [row for row in rows if kind is None or row["kind"] == kind]
