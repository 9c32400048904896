"""Recording finished runs in the evidence chain: after each run, and missed ones at start.

Evidence never stops a backup: a failure to append is logged loudly and the run stands; the
daemon's next start appends what the history holds and the chain lacks.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bdr.config.model import Config
from bdr.errors import BdrError
from bdr.evidence import chain
from bdr.evidence.keys import ensure_key, evidence_dir
from bdr.evidence.records import figures, from_rfc3339, rfc3339
from bdr.localtime import zone
from bdr.store import daemon_state, runs
from bdr.store.database import History

if TYPE_CHECKING:
    from bdr.evidence.agreement import Disagreement
    from bdr.evidence.verify import Verification

# How long before the chain's newest record a run the chain lacks may have ended and still be
# caught up: the longest default max_run_time (a copy's 48 h) and a day.
CATCH_UP_SECONDS = 3 * 86400.0

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
    # Told apart by id, kind and start, as the chain knows them; only the runs it lacks are
    # read whole (a history of 100,000 runs read whole held 100 MB of the daemon for good).
    held = chain.recorded_runs(config.appliance.state_dir)
    # Only a run that ended around the chain's newest record can have been missed by a crash:
    # an older one the chain lacks was added to the history since, and is a disagreement
    # (bdr evidence verify), not something to record as if it had happened.
    newest = max((from_rfc3339(str(key[2])) for key in held), default=None)
    wanted = [
        run_id
        for run_id, kind, started in runs.finished_keys(db, before=before)
        if (run_id, kind, rfc3339(started)) not in held
        and (newest is None or started >= newest - CATCH_UP_SECONDS)
    ]
    del held
    if not wanted:
        return 0
    key = ensure_key(config.appliance.state_dir, config.appliance.id)
    records = [
        figures(run, config.appliance.id)
        for run in (runs.get_run(db, run_id) for run_id in wanted)
        if run is not None
    ]
    added = chain.append_missing(config.appliance.state_dir, records, key, _month)
    if added:
        log.warning(
            "evidence chain: %d finished run(s) were missing and were appended: %s",
            len(added),
            ", ".join(str(record["run"]) for record in added[:20])
            + (" ..." if len(added) > 20 else ""),
        )
    return len(added)


def history_disagreements(config: Config, db: History, *, now: float) -> list[Disagreement]:
    """Where the history disagrees with the chain (bdr/evidence/agreement.py); none without a
    chain (nothing recorded yet)."""
    from bdr.evidence.agreement import ChainIndex, check

    index = ChainIndex(evidence_dir(config.appliance.state_dir) / chain.CHAIN)
    if not index.found:
        return []
    since = runs.first_started(db)
    if since is None:
        since = now
    return check(runs.every_run(db), index, config.appliance.id, now=now, since=since)


def _month(record: dict[str, Any]) -> object:
    """The calendar month (local time) a record's run ended in: a month's export starts and
    ends at checkpoints of such boundaries."""
    ended = record.get("ended")
    if not isinstance(ended, str):
        return None
    moment = datetime.fromtimestamp(from_rfc3339(ended), zone())
    return moment.year, moment.month


def prepare(config: Config, db: History) -> None:
    """Make the signing key if missing and note its fingerprint (for bdr_appliance_info)."""
    try:
        key = ensure_key(config.appliance.state_dir, config.appliance.id)
    except BdrError as error:
        log.error("evidence: %s", error.message)
        return
    daemon_state.set_daemon_value(db, "evidence_fingerprint", key.fingerprint)


def self_verify(config: Config, db: History) -> Verification:
    """Verify the appliance's own chain, note the result for the metrics, log a break."""
    from bdr.evidence.verify import Verification, verify_appliance

    try:
        result = verify_appliance(config.appliance.state_dir)
    except ValueError as error:
        result = Verification(problems=[str(error)])
    if not (evidence_dir(config.appliance.state_dir) / chain.CHAIN).exists():
        result = Verification()  # nothing recorded yet is not a broken chain
    elif result.ok:
        disagreements = history_disagreements(config, db, now=time.time())
        if disagreements:
            more = len(disagreements) - 1
            result.problems.append(
                disagreements[0].text + (f" (and {more} more disagreement(s))" if more else "")
            )
    note_verified(db, result.problems[0] if result.problems else None)
    if not result.ok:
        log.error("evidence chain BROKEN: %s", result.problems[0])
    return result


def note_verified(db: History, problem: str | None) -> None:
    """Note a verification of the chain (and of the history against it) for the metrics and
    the `evidence` problem: `problem`, the first thing found wrong, or None."""
    daemon_state.set_daemon_value(db, "evidence_chain_ok", "0" if problem else "1")
    daemon_state.set_daemon_value(db, "evidence_problem", problem or "")
    daemon_state.set_daemon_value(db, "evidence_verified_at", str(time.time()))


def upkeep(config: Config, db: History, *, catch_up_before: float | None) -> Verification:
    """The daemon's upkeep of its chain (`bdr evidence upkeep`, in a process of its own): with
    `catch_up_before` (the daemon's start), the catch-up of the runs the chain lacks, then the
    verification of the whole chain."""
    if catch_up_before is not None:
        catch_up(config, db, before=catch_up_before)
    return self_verify(config, db)
