"""Recording finished runs in the evidence chain: after each run, and missed ones at start.

Evidence never stops a backup: a failure to append is logged loudly and the run stands; the
daemon's next start appends what the history holds and the chain lacks.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from bdr.config.model import Config
from bdr.errors import BdrError
from bdr.evidence import chain
from bdr.evidence.keys import ensure_key, evidence_dir
from bdr.evidence.records import figures
from bdr.store import runs
from bdr.store.database import History

if TYPE_CHECKING:
    from bdr.evidence.verify import Verification

log = logging.getLogger(__name__)


def record_run(config: Config, db: History, run_id: int) -> None:
    """Append the finished run `run_id` to the chain and sign the new head."""
    run = runs.get_run(db, run_id)
    if run is None or run.status == runs.RUNNING:
        return
    state_dir = config.appliance.state_dir
    try:
        key = ensure_key(state_dir, config.appliance.id)
        chain.append(state_dir, figures(run, config.appliance.id), key)
    except Exception as error:
        log.error("run=%d not recorded in the evidence chain: %s", run_id, error)


def catch_up(config: Config, db: History, *, before: float) -> int:
    """Append the finished runs that started before `before` (the daemon's start) and that the
    chain lacks: a crash came between the history and the chain. Return how many."""
    finished = [
        run
        for run in reversed(runs.list_runs(db, limit=1_000_000))
        if run.status != runs.RUNNING and run.started_at < before
    ]
    if not finished:
        return 0
    key = ensure_key(config.appliance.state_dir, config.appliance.id)
    records = [figures(run, config.appliance.id) for run in finished]
    added = chain.append_missing(config.appliance.state_dir, records, key)
    if added:
        log.warning(
            "evidence chain: %d finished run(s) were missing and were appended: %s",
            len(added),
            ", ".join(str(record["run"]) for record in added[:20])
            + (" ..." if len(added) > 20 else ""),
        )
    return len(added)


def prepare(config: Config, db: History) -> None:
    """Make the signing key if missing and note its fingerprint (for bdr_appliance_info)."""
    try:
        key = ensure_key(config.appliance.state_dir, config.appliance.id)
    except BdrError as error:
        log.error("evidence: %s", error.message)
        return
    runs.set_daemon_value(db, "evidence_fingerprint", key.fingerprint)


def self_verify(config: Config, db: History) -> Verification:
    """Verify the appliance's own chain, note the result for the metrics, log a break."""
    from bdr.evidence.verify import Verification, verify_appliance

    try:
        result = verify_appliance(config.appliance.state_dir)
    except ValueError as error:
        result = Verification(problems=[str(error)])
    if not (evidence_dir(config.appliance.state_dir) / chain.CHAIN).exists():
        result = Verification()  # nothing recorded yet is not a broken chain
    runs.set_daemon_value(db, "evidence_chain_ok", "1" if result.ok else "0")
    runs.set_daemon_value(db, "evidence_verified_at", str(time.time()))
    if not result.ok:
        log.error("evidence chain BROKEN: %s", result.problems[0])
    return result
