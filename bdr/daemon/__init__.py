"""`bdr daemon`: the appliance service.

The scheduler runs backups, drills and checks on their cron schedules, in the local time zone.
The main thread only waits for signals and writes the heartbeat: SIGTERM stops new runs,
gives running ones `appliance.stop_grace` to finish, then interrupts restic (runs end as
interrupted) and exits 0; SIGHUP reloads the config, keeping the old one when the new one is
invalid. With NOTIFY_SOCKET set, systemd hears READY, WATCHDOG and STATUS.

The package: `service` (the Daemon: its loop, runs and stop), `jobs` (what each kind of job
runs), `recovery` (what a start puts right), `upkeep` (the evidence chain's process),
`systemd` (sd_notify).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from bdr.config.load import load_checked
from bdr.daemon.service import Daemon
from bdr.restic.runner import Restic
from bdr.restic.supervisor import Supervisor
from bdr.schedule.clock import REAL, Clock

log = logging.getLogger("bdr.daemon")


def main(config_path: Path, *, clock: Clock = REAL) -> int:
    """Run the daemon until SIGTERM; return its exit code. `clock` is the schedules' clock."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        force=True,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # bdr logs each run itself, with its run id; APScheduler's own lines would repeat them.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # A stop asked for while the daemon starts is a clean stop (exit 0), not a failed unit:
    # until the daemon's own handlers are in place, SIGTERM ends the start-up here.
    signal.signal(signal.SIGTERM, _stop_starting)
    signal.signal(signal.SIGINT, _stop_starting)
    log.info("daemon starting, config %s", config_path)
    try:
        return _start(config_path, clock)
    except _StoppedStarting:
        log.info("daemon stopped during its start-up")
        return 0


class _StoppedStarting(BaseException):
    """SIGTERM or SIGINT before the daemon's handlers were installed."""


def _stop_starting(signum: int, frame: FrameType | None) -> None:
    raise _StoppedStarting


def _start(config_path: Path, clock: Clock) -> int:
    config = load_checked(config_path)
    # The daemon's own supervisor: its SIGTERM stops every restic of every run through it.
    restic = Restic.detect(
        os.environ.get("BDR_RESTIC", "restic"),
        cache_dir=config.appliance.state_dir / "cache",
        supervisor=Supervisor(),
    )
    return Daemon(config_path=config_path, config=config, restic=restic, clock=clock).serve()
