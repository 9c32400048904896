"""The application object every command receives: options, config, history and restic.

Built lazily, so `bdr --help` and `bdr config schema` import nothing heavy and touch nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from bdr.errors import ExitCode, worst

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bdr.actions.context import Context
    from bdr.config.model import Config
    from bdr.store.database import History
    from bdr.store.deferred import Waiting


class Finished(Protocol):
    """What a command made of runs ends with: a run summary, a drill result, an init result."""

    @property
    def exit_code(self) -> ExitCode: ...

    def as_json(self) -> dict[str, Any]: ...


class Abort(Exception):
    """Raised by App.abort and App.exit; main() prints its message (if any) and exits."""

    def __init__(self, code: int, message: str | None = None, hint: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass
class App:
    config_option: str | None = None
    json_output: bool = False
    debug: bool = False
    verbose: bool = False
    # Whether this command may run as root beside a service user's state_dir (a restore, to
    # keep owners and reach every share): it then writes bdr's files as that user.
    root_allowed: bool = False
    _config: Config | None = field(default=None, repr=False)
    _context: Context | None = field(default=None, repr=False)
    _history: History | None = field(default=None, repr=False)
    _waiting: Waiting | None = field(default=None, repr=False)

    @property
    def waiting(self) -> Waiting:
        """The runs of this command that wait for their record (state_dir full)."""
        if self._waiting is None:
            from bdr.store.deferred import Waiting

            self._waiting = Waiting()
        return self._waiting

    @property
    def config_path(self) -> Path:
        from bdr.config.load import config_path

        return config_path(self.config_option)

    @property
    def config(self) -> Config:
        if self._config is None:
            from bdr.config.load import load_config

            self._config = load_config(self.config_path)
        return self._config

    def history(self) -> History:
        """Return the migrated history, with runs left running by dead processes marked
        interrupted: what every command reads must not show a run that lies."""
        if self._history is None:
            from bdr.store.database import connect
            from bdr.store.runs import recover_dead_runs

            self._refuse_other_users()
            self._history = connect(self.config.appliance.state_dir)
            recovered = recover_dead_runs(self._history)
            if recovered:
                from bdr.actions.scratch import clean_up_dead

                logging.getLogger("bdr").warning(
                    "marked %d run(s) left running by a dead process as interrupted: %s",
                    len(recovered),
                    ", ".join(map(str, recovered)),
                )
                clean_up_dead(self.config, self._history)
                # Their ends go into the evidence chain too: a run the history holds and the
                # chain lacks is a disagreement (bdr evidence verify).
                from bdr.evidence import journal

                for run_id in recovered:
                    journal.record_run(self.config, self._history, run_id)
            self._write_spooled()
        return self._history

    def _write_spooled(self) -> None:
        """Write the runs an earlier command spooled while state_dir was full (if it has room
        now; else they go on waiting)."""
        from bdr.store import deferred
        from bdr.store.errors import StoreError

        assert self._history is not None
        if deferred.spooled(self.config.appliance.state_dir):
            from bdr.actions.context import write_deferred

            with contextlib.suppress(StoreError):
                write_deferred(self.config, self._history, self.waiting)
            # Still no room: back to the spool, not lost when this command exits.
            if self.waiting.pending():
                self.waiting.spool(self.config.appliance.state_dir)

    def _refuse_other_users(self) -> None:
        """Run as the owner of state_dir only: files root makes in the history, the caches or a
        repository would make every later run as `bdr` fail, and a daemon that cannot see
        another user's processes would take that user's runs for dead. A restore may run as
        root: it then acts as the owner, and as root only in its target (bdr.privilege)."""
        state_dir = self.config.appliance.state_dir
        try:
            owner = state_dir.stat().st_uid
        except OSError:
            return  # made by this run, for this user
        if owner == os.geteuid():
            return
        if os.geteuid() == 0 and self.root_allowed:
            from bdr import privilege

            privilege.drop_to(owner)
            return
        import pwd
        import shlex

        try:
            name = pwd.getpwuid(owner).pw_name
        except KeyError:
            name = str(owner)
        command = shlex.join(["bdr", *sys.argv[1:]])
        raise Abort(
            2,
            f"appliance.state_dir {state_dir} belongs to user {name}: bdr runs as that user",
            f"sudo -u {name} {command}",
        )

    def context(self, *, lock_timeout: float | None = None) -> Context:
        """Return the action context: validated config, migrated history, detected restic."""
        if self._context is None:
            from bdr.actions.context import Context
            from bdr.restic.runner import Restic

            config = self.config
            db = self.history()
            restic = Restic.detect(
                os.environ.get("BDR_RESTIC", "restic"),
                cache_dir=config.appliance.state_dir / "cache",
            )
            from bdr.store.daemon_state import set_daemon_value
            from bdr.store.errors import StoreError

            # For bdr_appliance_info: the collector reads versions, it never runs restic.
            # Not worth stopping a command over when state_dir is full.
            with contextlib.suppress(StoreError):
                set_daemon_value(db, "restic_version", restic.features.version_text)
            self._context = Context(
                config=config,
                db=db,
                restic=restic,
                say=self.say,
                lock_timeout=lock_timeout,
                waiting=self.waiting,
            )
        return self._context

    def publish(self) -> None:
        """After runs: refresh the metrics textfile and push, when configured."""
        config = self.config
        if config.metrics.textfile or config.metrics.pushgateway:
            from bdr.metrics.exporter import publish_after_run

            publish_after_run(config)

    def finish_runs(
        self, results: Sequence[Finished], show: Callable[[], None] | None = None
    ) -> NoReturn:
        """The one way out of a command made of runs: publish the metrics, show the results
        (JSON, `show`, or a line per run summary) and exit with the most serious code."""
        self.publish()
        unrecorded = self._unrecorded()
        if self.json_output:
            self.print_json([result.as_json() for result in results])
        elif show is not None:
            show()
        else:
            from bdr.actions.summary import RunSummary
            from bdr.cli.render import summaries

            summaries([result for result in results if isinstance(result, RunSummary)])
        if unrecorded:
            self.abort(unrecorded)
        self.exit(worst([result.exit_code for result in results]))

    def _unrecorded(self) -> str | None:
        """Name the runs that ran while state_dir was full and still wait for their record."""
        from bdr.actions.context import write_deferred

        if self._context is not None:
            write_deferred(self._context.config, self._context.db, self.waiting)
        waiting = self.waiting.pending()
        if not waiting:
            return None
        from bdr.store.errors import full_message

        ran = ", ".join(
            f"{run.kind} of {run.plan or run.repository} ({run.status}"
            + (f", snapshot {run.snapshot_id})" if run.snapshot_id else ")")
            for run in waiting
        )
        state_dir = self.config.appliance.state_dir
        spooled = self.waiting.spool(state_dir)
        kept = (
            f"; their records wait in {spooled} and are written by the next bdr command"
            if spooled is not None
            else ""
        )
        return f"{full_message(state_dir)}: ran, not recorded yet: {ran}{kept}"

    def say(self, text: str) -> None:
        """Tell the person what is happening (stderr, so --json output stays clean)."""
        print(text, file=sys.stderr, flush=True)

    def print_json(self, data: Any) -> None:
        print(json.dumps(data, indent=2, sort_keys=False, default=str))

    def abort(
        self, message: str, code: int = ExitCode.FAILED, *, hint: str | None = None
    ) -> NoReturn:
        raise Abort(code, message, hint)

    def exit(self, code: int) -> NoReturn:
        raise Abort(code)
