"""`bdr daemon` with its schedules' clock 60 times faster: a cron minute lasts a real second.

Usage: python -m tests.integration.fast_daemon CONFIG. Everything else is the real daemon.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
import time
from pathlib import Path

from bdr.daemon import main
from bdr.schedule.clock import Clock

SPEED = 60.0

if __name__ == "__main__":
    # A test that finds the daemon stuck asks it, with SIGUSR1, where each thread is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.exit(main(Path(sys.argv[1]), clock=Clock(speed=SPEED, origin=time.time())))
