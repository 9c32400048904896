"""What every action is given: the config, the history, restic, a clock and a way to speak."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bdr.config.model import Config, Repository
from bdr.config.units import format_duration
from bdr.errors import BdrError, ExitCode, Interrupted, UsageError
from bdr.restic.environment import ResticEnv, build_env
from bdr.restic.lock import repository_locks
from bdr.restic.runner import Restic
from bdr.store import runs
from bdr.store.database import History
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
    restic: Restic
    now: Callable[[], float] = time.time
    # For durations (drill phases): never jumps when the wall clock is set.
    monotonic: Callable[[], float] = time.monotonic
    say: Callable[[str], None] = _silent
    lock_timeout: float | None = None

    def repository(self, name: str) -> Repository:
        try:
            return self.config.repositories[name]
        except KeyError:
            known = ", ".join(sorted(self.config.repositories))
            raise UsageError(f"no repository named {name!r} (configured: {known})") from None

    def time_limit(self, kind: str) -> contextlib.AbstractContextManager[None]:
        """Within the block, restic is stopped once `appliance.max_run_time` of `kind` passes."""
        limit = self.config.appliance.run_time_limit(kind)
        return Restic.deadline(
            limit, f"{format_duration(limit or 0)} (appliance.max_run_time.{kind})"
        )

    def env(self, name: str, *, from_repository: str | None = None) -> ResticEnv:
        """Return the restic environment for repository `name` (and a copy source)."""
        source = self.repository(from_repository) if from_repository else None
        try:
            return build_env(self.repository(name), from_repository=source)
        except (OSError, ValueError) as error:
            raise BdrError(f"repositories.{name}: {error}") from None

    def lock(self, *repositories: str, purpose: str) -> contextlib.AbstractContextManager[None]:
        timeout = (
            self.lock_timeout
            if self.lock_timeout is not None
            else float(self.config.appliance.lock_timeout)
        )
        return repository_locks(
            self.config.appliance.state_dir,
            list(repositories),
            timeout=timeout,
            purpose=purpose,
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

    def fail(self, error: str, *, exit_code: int | None = None) -> None:
        self.status = runs.FAILED
        self.error = error
        self.exit_code = exit_code


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
    both are re-raised.
    """
    run_id = runs.start_run(
        ctx.db, kind, plan=plan, repository=repository, subject=subject, now=ctx.now
    )
    record = RunRecord(id=run_id, kind=kind, plan=plan, repository=repository)
    where = " ".join(
        f"{k}={v}"
        for k, v in (("plan", plan), ("repository", repository), ("subject", subject))
        if v
    )
    log.info("run=%d %s started %s", record.id, kind, where)
    try:
        with ctx.time_limit(kind):
            yield record
    except (KeyboardInterrupt, Interrupted):
        record.status = runs.INTERRUPTED
        record.error = record.error or "interrupted by a signal"
        raise
    except BdrError as error:
        record.fail(error.message, exit_code=int(error.exit_code))
    except Exception as error:
        record.fail(f"internal error: {error!r}")
        raise
    finally:
        if record.exit_code is None:
            record.exit_code = int(exit_code_of(record.status, None))
        runs.finish_run(
            ctx.db,
            record.id,
            record.status,
            snapshot_id=record.snapshot_id,
            exit_code=record.exit_code,
            error=record.error,
            bytes_added=record.bytes_added,
            bytes_processed=record.bytes_processed,
            files_processed=record.files_processed,
            outcome=record.outcome,
            snapshot_time=record.outcome.snapshot_time
            if isinstance(record.outcome, DrillOutcome)
            else None,
            now=ctx.now,
        )
        log.info(
            "run=%d %s %s%s",
            record.id,
            kind,
            record.status,
            f": {record.error}" if record.error else "",
        )
        # Imported here: commands that record no run (snapshots, status) do not load the
        # evidence chain's cryptography nor the notifier.
        from bdr.evidence import journal
        from bdr.notify import engine as notify

        # After the history: a run in the chain is always a run in the history.
        journal.record_run(ctx.config, ctx.db, record.id)
        notify.after_run(ctx.config, ctx.db, record.id, ctx.now)
