"""What every action is given: the config, the history, restic, a clock and a way to speak."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bdr.config.model import Config, Repository
from bdr.config.units import format_duration
from bdr.drill.strategy import Tuning
from bdr.errors import BdrError, ExitCode, Interrupted, interrupted_by, unknown_name
from bdr.restic.environment import ResticEnv, build_env
from bdr.restic.gateway import ResticGateway
from bdr.restic.lock import repository_lock, repository_locks
from bdr.restic.runner import deadline
from bdr.restic.supervisor import Supervisor
from bdr.store import deferred, runs
from bdr.store.database import History
from bdr.store.errors import StoreFull
from bdr.store.outcomes import DrillOutcome, Outcome

log = logging.getLogger("bdr")

_STATUS_EXIT = {runs.OK: ExitCode.OK, runs.WARNING: ExitCode.PARTIAL}


def exit_code_of(status: str, recorded: int | None) -> ExitCode:
    """The one map from how a run ended to the exit code it gives: ok 0, warning 3, otherwise
    the code the failure recorded (locked 5, repository 6, drill 4), else 1."""
    code = _STATUS_EXIT.get(status)
    if code is not None:
        return code
    return ExitCode(recorded) if recorded else ExitCode.FAILED


def _silent(_: str) -> None:
    return None


@dataclass
class Context:
    config: Config
    db: History
    restic: ResticGateway
    now: Callable[[], float] = time.time
    # For durations (drill phases): never jumps when the wall clock is set.
    monotonic: Callable[[], float] = time.monotonic
    say: Callable[[str], None] = _silent
    lock_timeout: float | None = None
    # The thresholds the drill's ways of restoring turn on.
    tuning: Tuning = field(default_factory=Tuning)
    # The runs of this process that wait for their record (state_dir full): the owner's.
    waiting: deferred.Waiting = field(default_factory=deferred.Waiting)

    @property
    def supervisor(self) -> Supervisor:
        """The owner's supervisor, which also holds every restic of `restic`."""
        return self.restic.supervisor

    def repository(self, name: str) -> Repository:
        try:
            return self.config.repositories[name]
        except KeyError:
            raise unknown_name("repository", name, self.config.repositories) from None

    def time_limit(self, kind: str) -> contextlib.AbstractContextManager[None]:
        """Within the block, restic is stopped once `appliance.max_run_time` of `kind` passes."""
        limit = self.config.appliance.run_time_limit(kind)
        return deadline(limit, f"{format_duration(limit or 0)} (appliance.max_run_time.{kind})")

    def env(self, name: str, *, from_repository: str | None = None) -> ResticEnv:
        """Return the restic environment for repository `name` (and a copy source)."""
        source = self.repository(from_repository) if from_repository else None
        try:
            return build_env(self.repository(name), from_repository=source)
        except (OSError, ValueError) as error:
            raise BdrError(f"repositories.{name}: {error}") from None

    def _lock_timeout(self) -> float:
        """How long a run waits for a lock: the command's --lock-timeout, else the config's."""
        if self.lock_timeout is not None:
            return self.lock_timeout
        return float(self.config.appliance.lock_timeout)

    def plan_lock(self, plan: str, *, purpose: str) -> contextlib.AbstractContextManager[None]:
        """One backup of a plan at a time: two would race on its canary and its judgement,
        though restic would let them share the repository."""
        return repository_lock(
            self.config.appliance.state_dir,
            plan,
            timeout=self._lock_timeout(),
            purpose=purpose,
            supervisor=self.supervisor,
            on_wait=self.say,
            kind="plan",
        )

    def lock(
        self, *repositories: str, purpose: str, exclusive: bool = True
    ) -> contextlib.AbstractContextManager[None]:
        """bdr's lock of `repositories`: alone (check, forget, prune, init), or shared with
        other shared holders (backup, copy, restore, drill: what restic runs side by side)."""
        return repository_locks(
            self.config.appliance.state_dir,
            list(repositories),
            timeout=self._lock_timeout(),
            purpose=purpose,
            exclusive=exclusive,
            supervisor=self.supervisor,
            on_wait=self.say,
        )


@dataclass
class RunRecord:
    """The fields of a run that an action fills in before it ends."""

    id: int
    kind: str
    plan: str | None = None
    repository: str | None = None
    status: str = runs.OK
    message: str = ""
    snapshot_id: str | None = None
    exit_code: int | None = None
    error: str | None = None
    bytes_added: int | None = None
    bytes_processed: int | None = None
    files_processed: int | None = None
    # What the run produced, typed; set (and replaced as it grows) by the action.
    outcome: Outcome | None = None
    # For a run that waits for its record: the newest snapshot it made known.
    latest: deferred.LatestSnapshot | None = None

    def ending(self) -> dict[str, Any]:
        """What `runs.finish_run` writes of the run, besides its status."""
        return {
            "snapshot_id": self.snapshot_id,
            "exit_code": self.exit_code,
            "error": self.error,
            "bytes_added": self.bytes_added,
            "bytes_processed": self.bytes_processed,
            "files_processed": self.files_processed,
            "outcome": self.outcome,
            "snapshot_time": self.outcome.snapshot_time
            if isinstance(self.outcome, DrillOutcome)
            else None,
        }

    def said(self) -> str:
        """Its status, and its error if it has one, for the log."""
        return f"{self.status}: {self.error}" if self.error else self.status

    def fail(self, error: str, *, exit_code: int | None = None) -> None:
        self.status = runs.FAILED
        self.error = error
        self.exit_code = exit_code


# The id of a run that could not be written to the history when it started (state_dir full).
DEFERRED = 0


@contextlib.contextmanager
def recorded_run(
    ctx: Context,
    kind: str,
    *,
    plan: str | None = None,
    repository: str | None = None,
    subject: str | None = None,
) -> Iterator[RunRecord]:
    """Record a run in the history for the duration of the block.

    The run is written as running before the block starts. A BdrError ends it as failed with
    its message and exit code, and is not re-raised: the caller reads the outcome from the
    record after the block. An interrupt ends it as interrupted, any other exception as failed;
    both are re-raised. When state_dir is full, a backup, copy or retention runs all the same
    with the id DEFERRED, and its record waits in `bdr.store.deferred` for space.
    """
    started_at = ctx.now()
    try:
        run_id = runs.start_run(
            ctx.db, kind, plan=plan, repository=repository, subject=subject, now=lambda: started_at
        )
    except StoreFull as error:
        if kind not in deferred.KINDS:
            raise
        # The data matters more than its record: run, and record it once there is space.
        log.error(
            "%s; the %s runs all the same and is recorded once there is space",
            error.message,
            kind,
        )
        run_id = DEFERRED
    record = RunRecord(id=run_id, kind=kind, plan=plan, repository=repository)
    where = " ".join(
        f"{k}={v}"
        for k, v in (("plan", plan), ("repository", repository), ("subject", subject))
        if v
    )
    log.info("run=%s %s started %s", record.id if record.id != DEFERRED else "-", kind, where)
    try:
        with ctx.time_limit(kind):
            yield record
    except (KeyboardInterrupt, Interrupted) as stop:
        record.status = runs.INTERRUPTED
        record.error = record.error or interrupted_by(stop)
        raise
    except BdrError as error:
        record.fail(error.message, exit_code=int(error.exit_code))
    except Exception as error:
        record.fail(f"internal error: {error!r}")
        raise
    finally:
        if record.exit_code is None:
            record.exit_code = int(exit_code_of(record.status, None))
        if record.id == DEFERRED:
            _defer(ctx, record, subject, started_at)
        else:
            _finish(ctx, record, kind)


def _finish(ctx: Context, record: RunRecord, kind: str) -> None:
    """Write the end of a recorded run, then its evidence record and its notifications."""
    runs.finish_run(ctx.db, record.id, record.status, **record.ending(), now=ctx.now)
    log.info("run=%d %s %s", record.id, kind, record.said())
    # Imported here: commands that record no run (snapshots, status) do not load the
    # evidence chain's cryptography nor the notifier.
    from bdr.evidence import journal
    from bdr.notify import engine as notify

    # After the history: a run in the chain is always a run in the history.
    journal.record_run(ctx.config, ctx.db, record.id)
    notify.after_run(ctx.config, ctx.db, record.id, ctx.now)


def load_run_end(_pid: int) -> None:
    """Import what `_finish` needs, as the `on_start` of a run's restic: the imports (the evidence
    chain's cryptography, the notifier: ~30 ms) then run while restic derives its key on the
    other core, not between one restic command and the next."""
    try:
        from bdr.evidence import journal  # noqa: F401
        from bdr.notify import engine  # noqa: F401
    except Exception as error:  # _finish imports them again, and fails the run there
        log.debug("could not import the run's end early: %r", error)


def _defer(ctx: Context, record: RunRecord, subject: str | None, started_at: float) -> None:
    """Keep the record of a run that ran while state_dir was full, and write it (and any
    kept before it) if there is space now."""
    ctx.waiting.keep(
        deferred.DeferredRun(
            kind=record.kind,
            plan=record.plan,
            repository=record.repository,
            subject=subject,
            started_at=started_at,
            ended_at=ctx.now(),
            status=record.status,
            ending=record.ending(),
            latest=record.latest,
        )
    )
    log.info("run (not yet recorded) %s %s", record.kind, record.said())
    write_deferred(ctx.config, ctx.db, ctx.waiting)


def write_deferred(config: Config, db: History, waiting: deferred.Waiting) -> list[int]:
    """Write the records of runs that ran while state_dir was full (those `waiting` in this
    process, and those a command line spooled), with their evidence."""
    waiting.unspool(config.appliance.state_dir)
    if not waiting.pending():
        return []
    written = waiting.write(db)
    if written:
        from bdr.evidence import journal
        from bdr.notify import engine as notify

        for run_id in written:
            journal.record_run(config, db, run_id)
            notify.after_run(config, db, run_id, time.time)
    return written


def record_latest_snapshot(
    ctx: Context, record: RunRecord, plan: str, repository: str, snapshot_id: str, when: float
) -> None:
    """Remember the plan's newest snapshot in `repository` with the run that made it known."""
    if record.id == DEFERRED:
        record.latest = deferred.LatestSnapshot(plan, repository, snapshot_id, when)
    else:
        runs.record_latest_snapshot(ctx.db, plan, repository, snapshot_id, when, now=ctx.now)
