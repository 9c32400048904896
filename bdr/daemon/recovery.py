"""What the daemon puts right as it starts, after a crash or a power cut."""

from __future__ import annotations

import logging

from bdr.actions import scratch
from bdr.config.model import Config
from bdr.evidence import journal
from bdr.notify.engine import Notifier as Problems
from bdr.restic import argv as build
from bdr.restic.environment import build_env
from bdr.restic.gateway import ResticGateway
from bdr.store import runs
from bdr.store.database import History

log = logging.getLogger("bdr.daemon")


def startup_recovery(config: Config, db: History, restic: ResticGateway) -> None:
    """Runs left running become interrupted; stale restic locks and dead scratch areas go."""
    recovered = runs.recover_dead_runs(db)
    if recovered:
        listed = ", ".join(map(str, recovered))
        log.warning("runs left running by a dead process marked interrupted: %s", listed)
        Problems(config, db).info(
            "appliance",
            "the daemon restarted after a crash",
            f"The bdr daemon started again after its process died (a crash, a power cut or a "
            f"kill). Runs it had left running were marked interrupted: {listed}. Their jobs "
            "run again on their schedules; bdr status shows them.",
        )
    scratch.clean_up_dead(config, db)
    journal.prepare(config, db)
    for name, repository in config.repositories.items():
        try:
            result = restic.run(
                restic.args(build.unlock), build_env(repository), unlock_retry=False
            )
        except (OSError, ValueError) as error:
            log.warning("repository %s: cannot clear stale locks: %s", name, error)
            continue
        if result.ok:
            log.info("repository %s: stale restic locks cleared", name)
        else:
            log.warning("repository %s: restic unlock failed: %s", name, result.error_text())
