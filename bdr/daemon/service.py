"""The Daemon: its loop (signals, heartbeat, evidence upkeep), its runs, and its stop."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

from bdr import __version__
from bdr.actions.context import Context, write_deferred
from bdr.config.load import load_checked
from bdr.config.model import Config
from bdr.daemon.jobs import execute
from bdr.daemon.recovery import startup_recovery
from bdr.daemon.systemd import Systemd
from bdr.daemon.upkeep import Upkeep, upkeep_argv
from bdr.daemon.uploader import Uploader
from bdr.errors import BdrError, ConfigError, Interrupted
from bdr.metrics.exporter import Exporter, publish_after_run
from bdr.notify.worker import Worker
from bdr.restic.gateway import ResticGateway
from bdr.schedule.clock import REAL, Clock
from bdr.schedule.jobs import JobSpec, job_specs
from bdr.schedule.scheduler import Scheduler, local_timezone, missed_jobs
from bdr.store import daemon_state
from bdr.store.database import History, connect
from bdr.store.deferred import Waiting
from bdr.store.errors import StoreFull

log = logging.getLogger("bdr.daemon")

HEARTBEAT_SECONDS = 10.0
# The daemon re-reads its whole evidence chain once a day (and at start): bdr_evidence_chain_ok.
EVIDENCE_VERIFY_SECONDS = 86400.0
# How long the runs interrupted at the end of the stop grace may take to record their end.
INTERRUPTED_END_SECONDS = 60.0


class ActiveRuns:
    """The jobs running now, and a wait for their end that wakes as the last one ends."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._names: set[str] = set()

    @contextlib.contextmanager
    def running(self, name: str) -> Iterator[None]:
        with self._changed:
            self._names.add(name)
        try:
            yield
        finally:
            with self._changed:
                self._names.discard(name)
                self._changed.notify_all()

    def names(self) -> list[str]:
        with self._changed:
            return sorted(self._names)

    def wait_idle(self, seconds: float) -> bool:
        """Wait up to `seconds` for every run to end; return whether they all did."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._names, timeout=seconds)


@dataclass
class Daemon:
    config_path: Path
    config: Config
    restic: ResticGateway
    notifier: Systemd = field(default_factory=Systemd)
    # The clock schedules run on: real time, except in the daemon's tests.
    clock: Clock = REAL
    _stop: threading.Event = field(default_factory=threading.Event)
    _reload: threading.Event = field(default_factory=threading.Event)
    active: ActiveRuns = field(default_factory=ActiveRuns)
    notify_worker: Worker | None = None
    uploader: Uploader | None = None
    scheduler: Scheduler | None = None
    # The runs that wait for their record while state_dir is full, written at the heartbeat.
    waiting: Waiting = field(default_factory=Waiting)

    def context(self) -> Context:
        """A context of its own for each run: SQLite connections stay in their thread."""
        return Context(
            config=self.config,
            # Checked (and salvaged if need be) once, at the daemon's start.
            db=connect(self.config.appliance.state_dir, check=False),
            restic=self.restic,
            say=lambda text: log.info("%s", text),
            waiting=self.waiting,
        )

    def run_job(self, spec: JobSpec) -> None:
        if self._stop.is_set():
            return
        with self.active.running(spec.job_id):
            self._run(spec)
        active = self.active.names()
        self.notifier.send(f"STATUS=running {', '.join(active)}" if active else "STATUS=idle")

    def _run(self, spec: JobSpec) -> None:
        ctx = self.context()
        try:
            try:
                write_deferred(self.config, ctx.db, self.waiting)
                daemon_state.record_fire(
                    ctx.db, spec.job_id, time.time(), self._next_run(spec.job_id)
                )
            except StoreFull as error:
                log.error("job %s: %s", spec.job_id, error.message)
            log.info("job %s starting", spec.job_id)
            self.notifier.send(f"STATUS=running {spec.job_id}")
            try:
                execute(ctx, spec)
            finally:
                publish_after_run(self.config)
                if self.notify_worker is not None:
                    self.notify_worker.poke()
                if self.uploader is not None:
                    self.uploader.poke()
        except BaseException as error:
            # A job must never take the scheduler thread down; the run itself is recorded.
            if isinstance(error, StoreFull):
                log.error("job %s: %s", spec.job_id, error.message)
                return
            log.error(
                "job %s ended with %s",
                spec.job_id,
                error,
                exc_info=not isinstance(error, BdrError | Interrupted),
            )
        finally:
            ctx.db.close()

    def _next_run(self, job_id: str) -> float | None:
        if self.scheduler is None:  # not serving yet: a job run by hand
            return None
        moment = self.scheduler.next_runs().get(job_id)
        return moment.timestamp() if moment else None

    def serve(self) -> int:
        # First: from here on a SIGTERM sets _stop, and the start-up ends cleanly where it is.
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_signal)
        # Runs that start from here on record their own evidence; older ones may need catching up.
        began = time.time()
        db = connect(self.config.appliance.state_dir)
        startup_recovery(self.config, db, self.restic)
        if self._stop.is_set():
            log.info("daemon stopped during its start-up")
            return 0
        timezone = local_timezone()
        self.scheduler = Scheduler(
            self.run_job,
            max_parallel=self.config.appliance.max_parallel_runs,
            timezone=timezone,
            clock=self.clock,
        )
        specs = job_specs(self.config)
        last_fires = {job.job_id: job.last_fire for job in daemon_state.scheduled_jobs(db)}
        self.scheduler.start(specs)
        self._save_schedule(db, specs)
        started = datetime.fromtimestamp(self.clock.now(), timezone)
        for spec in missed_jobs(specs, last_fires, started, timezone, self.clock):
            log.info(
                "job %s missed a run while the daemon was down: running it once now", spec.job_id
            )
            self.scheduler.run_soon(spec)
        daemon_state.set_daemon_value(db, "pid", str(os.getpid()))
        daemon_state.set_daemon_value(db, "started_at", str(time.time()))
        daemon_state.set_daemon_value(db, "version", __version__)
        daemon_state.set_daemon_value(db, "restic_version", self.restic.features.version_text)
        exporter = None
        if self.config.metrics.listen:
            try:
                exporter = Exporter(self.config.metrics, lambda: self.config)
                exporter.start()
            except (OSError, ValueError) as error:
                # Backups matter more than their metrics: run on, and say why they are missing.
                log.error(
                    "metrics.listen %s: cannot serve metrics: %s; running without them",
                    self.config.metrics.listen,
                    error,
                )
        publish_after_run(self.config)
        self.notify_worker = Worker(lambda: self.config, self.clock)
        self.notify_worker.start()
        self.uploader = Uploader(self.context, time.monotonic)
        self.uploader.start()
        log.info("daemon ready: %d jobs, config %s", len(specs), self.config_path)
        self.notifier.send("READY=1\nSTATUS=idle")
        # After READY and beside the heartbeat: the first start after an upgrade may append a
        # long history, which must hold up neither systemd's start timeout nor its watchdog.
        upkeep = self._evidence_upkeep(catch_up_before=began)
        last_beat = last_ping = -EVIDENCE_VERIFY_SECONDS  # the first beat and ping at once
        last_verify = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_verify >= EVIDENCE_VERIFY_SECONDS and not upkeep.is_alive():
                upkeep = self._evidence_upkeep(catch_up_before=None)
                last_verify = now
            if now - last_beat >= HEARTBEAT_SECONDS:
                self._beat(db)
                last_beat = now
            interval = self.notifier.watchdog_interval
            if interval is not None and now - last_ping >= interval:
                self.notifier.send("WATCHDOG=1")
                last_ping = now
            if self._reload.is_set():
                self._reload.clear()
                self.reload(db)
            self._stop.wait(0.5)
        upkeep.stop()
        code = self.shutdown(db)
        self.uploader.stop()
        self.notify_worker.stop()  # after the runs: their messages are queued, maybe sent
        if exporter is not None:
            exporter.stop()
        return code

    def _beat(self, db: History) -> None:
        """The heartbeat, and the records of runs that ran while state_dir was full."""
        try:
            write_deferred(self.config, db, self.waiting)
            daemon_state.set_daemon_value(db, "heartbeat", str(time.time()))
            self._save_schedule(db, job_specs(self.config))
        except StoreFull as error:
            # Said by every job that starts meanwhile; the daemon stays up to run them.
            log.debug("heartbeat not written: %s", error)

    def _evidence_upkeep(self, *, catch_up_before: float | None) -> Upkeep:
        """Start the chain's upkeep in a process of its own (see upkeep.py)."""
        return Upkeep(upkeep_argv(self.config_path, catch_up_before=catch_up_before))

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload.set()
        else:
            self._stop.set()

    def reload(self, db: History) -> None:
        assert self.scheduler is not None
        try:
            config = load_checked(self.config_path)
        except ConfigError as error:
            log.error("reload refused, keeping the running config: %s", error.message)
            for problem in error.problems:
                log.error("  %s", problem)
            return
        except BdrError as error:
            log.error("reload refused, keeping the running config: %s", error.message)
            return
        if config.appliance.max_parallel_runs != self.config.appliance.max_parallel_runs:
            log.warning("appliance.max_parallel_runs changes at the next restart of the daemon")
        specs = job_specs(config)
        try:
            self.scheduler.replace(specs)
        except Exception as error:  # a schedule the scheduler cannot take: keep the old ones
            log.error("reload refused, keeping the running config: %s", error)
            self.scheduler.replace(job_specs(self.config))
            return
        self.config = config
        self._save_schedule(db, specs)
        log.info("config reloaded from %s: %d jobs", self.config_path, len(specs))
        self.notifier.send("STATUS=config reloaded")

    def _save_schedule(self, db: History, specs: list[JobSpec]) -> None:
        assert self.scheduler is not None
        next_runs = self.scheduler.next_runs()
        daemon_state.save_schedule(
            db,
            [
                daemon_state.ScheduledJob(
                    spec.job_id,
                    spec.kind,
                    spec.subject,
                    spec.cron,
                    next_runs[spec.job_id].timestamp()  # type: ignore[union-attr]
                    if next_runs.get(spec.job_id)
                    else None,
                    None,
                )
                for spec in specs
            ],
        )

    def shutdown(self, db: History) -> int:
        self.notifier.send("STOPPING=1\nSTATUS=stopping")
        if self.scheduler is not None:
            self.scheduler.shutdown()
        supervisor = self.restic.supervisor
        # Runs still queued for a repository have not started: they end now, interrupted.
        # Otherwise one waiting behind a technician's restore holds the stop for lock_timeout.
        supervisor.drain()
        grace = float(self.config.appliance.stop_grace)
        active = self.active.names()
        if active:
            log.info("stopping: waiting up to %.0fs for %s", grace, ", ".join(active))
        if not self.active.wait_idle(grace):
            count = supervisor.stop()
            log.info("stopping: interrupted %d restic process(es)", count)
            self.active.wait_idle(INTERRUPTED_END_SECONDS)
        daemon_state.set_daemon_value(db, "stopped_at", str(time.time()))
        log.info("daemon stopped")
        return 0
