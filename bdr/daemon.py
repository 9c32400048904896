"""`bdr daemon`: the appliance service.

The scheduler runs backups, drills and checks on their cron schedules, in the local time zone.
The main thread only waits for signals and writes the heartbeat: SIGTERM stops new runs,
gives running ones `appliance.stop_grace` to finish, then interrupts restic (runs end as
interrupted) and exits 0; SIGHUP reloads the config, keeping the old one when the new one is
invalid. With NOTIFY_SOCKET set, systemd hears READY, WATCHDOG and STATUS.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

from bdr import __version__
from bdr.actions import scratch
from bdr.actions.context import Context, write_deferred
from bdr.config.load import load_config
from bdr.config.model import Config
from bdr.errors import BdrError, ConfigError, Interrupted
from bdr.evidence import journal
from bdr.metrics.exporter import Exporter, publish_after_run
from bdr.notify.engine import Notifier as Problems
from bdr.notify.worker import Worker
from bdr.restic import argv as build
from bdr.restic import runner
from bdr.restic.environment import build_env
from bdr.restic.lock import stop_waiting
from bdr.restic.runner import Restic
from bdr.schedule.clock import REAL, Clock
from bdr.schedule.jobs import JobSpec, job_specs
from bdr.schedule.scheduler import Scheduler, local_timezone, missed_jobs
from bdr.store import runs
from bdr.store.database import History, connect, full_message, is_full

log = logging.getLogger("bdr.daemon")

HEARTBEAT_SECONDS = 10.0
# The daemon re-reads its whole evidence chain once a day (and at start): bdr_evidence_chain_ok.
EVIDENCE_VERIFY_SECONDS = 86400.0
# How long the evidence upkeep may take to end on SIGTERM when the daemon stops.
UPKEEP_STOP_SECONDS = 10.0


class Notifier:
    """sd_notify without libsystemd: one datagram per message to $NOTIFY_SOCKET."""

    def __init__(self) -> None:
        address = os.environ.get("NOTIFY_SOCKET", "")
        # An address starting with "@" is in the abstract namespace.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = os.environ.get("WATCHDOG_USEC", "")
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() else None

    def send(self, message: str) -> None:
        if not self.address:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(message.encode(), self.address)
            except OSError as error:
                log.warning("cannot notify systemd: %s", error)


class Upkeep:
    """A process of the daemon's own (the evidence chain's upkeep), watched by a thread, and
    stopped with the daemon: outside systemd nothing else would end it."""

    def __init__(self, argv: list[str]) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, args=(argv,), daemon=True)
        self._thread.name = "evidence-upkeep"
        self._thread.start()

    def _run(self, argv: list[str]) -> None:
        with self._lock:
            if self._stopped:
                return
            try:
                # Its own session: a Ctrl-C at the daemon's terminal reaches the daemon, which
                # stops it (below) rather than leave a traceback of it on the terminal.
                self._process = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, start_new_session=True
                )
            except OSError as error:
                log.error("evidence upkeep could not start: %s", error)
                return
        self._process.wait()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """End the process (SIGTERM; an append it tore is repaired by the next one)."""
        with self._lock:
            self._stopped = True
            process = self._process
        if process is not None and process.poll() is None:
            log.info("stopping the evidence upkeep (pid %d)", process.pid)
            process.terminate()
            try:
                process.wait(timeout=UPKEEP_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._thread.join()


@dataclass
class Daemon:
    config_path: Path
    config: Config
    restic: Restic
    notifier: Notifier = field(default_factory=Notifier)
    # The clock schedules run on: real time, except in the daemon's tests.
    clock: Clock = REAL
    _stop: threading.Event = field(default_factory=threading.Event)
    _reload: threading.Event = field(default_factory=threading.Event)
    _active: set[str] = field(default_factory=set)
    _active_lock: threading.Lock = field(default_factory=threading.Lock)
    notify_worker: Worker | None = None

    def context(self) -> Context:
        """A context of its own for each run: SQLite connections stay in their thread."""
        return Context(
            config=self.config,
            db=connect(self.config.appliance.state_dir),
            restic=self.restic,
            say=lambda text: log.info("%s", text),
        )

    def run_job(self, spec: JobSpec) -> None:
        if self._stop.is_set():
            return
        with self._active_lock:
            self._active.add(spec.job_id)
        ctx = self.context()
        try:
            try:
                write_deferred(self.config, ctx.db)
                runs.record_fire(ctx.db, spec.job_id, time.time(), self._next_run(spec.job_id))
            except sqlite3.OperationalError as error:
                if not is_full(error):
                    raise
                log.error("job %s: %s", spec.job_id, full_message(self.config.appliance.state_dir))
            log.info("job %s starting", spec.job_id)
            self.notifier.send(f"STATUS=running {spec.job_id}")
            try:
                _execute(ctx, spec)
            finally:
                publish_after_run(self.config)
                if self.notify_worker is not None:
                    self.notify_worker.poke()
        except BaseException as error:
            # A job must never take the scheduler thread down; the run itself is recorded.
            if is_full(error):
                log.error("job %s: %s", spec.job_id, full_message(self.config.appliance.state_dir))
                return
            log.error(
                "job %s ended with %s",
                spec.job_id,
                error,
                exc_info=not isinstance(error, BdrError | Interrupted),
            )
        finally:
            ctx.db.close()
            with self._active_lock:
                self._active.discard(spec.job_id)
            self.notifier.send(
                "STATUS=idle"
                if not self._active
                else f"STATUS=running {', '.join(sorted(self._active))}"
            )

    def _next_run(self, job_id: str) -> float | None:
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
        last_fires = {job.job_id: job.last_fire for job in runs.scheduled_jobs(db)}
        self.scheduler.start(specs)
        self._save_schedule(db, specs)
        started = datetime.fromtimestamp(self.clock.now(), timezone)
        for spec in missed_jobs(specs, last_fires, started, timezone, self.clock):
            log.info(
                "job %s missed a run while the daemon was down: running it once now", spec.job_id
            )
            self.scheduler.run_soon(spec)
        runs.set_daemon_value(db, "pid", str(os.getpid()))
        runs.set_daemon_value(db, "started_at", str(time.time()))
        runs.set_daemon_value(db, "version", __version__)
        runs.set_daemon_value(db, "restic_version", self.restic.features.version_text)
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
        self.notify_worker.stop()  # after the runs: their messages are queued, maybe sent
        if exporter is not None:
            exporter.stop()
        return code

    def _beat(self, db: History) -> None:
        """The heartbeat, and the records of runs that ran while state_dir was full."""
        try:
            write_deferred(self.config, db)
            runs.set_daemon_value(db, "heartbeat", str(time.time()))
            self._save_schedule(db, job_specs(self.config))
        except sqlite3.OperationalError as error:
            if not is_full(error):
                raise
            # Said by every job that starts meanwhile; the daemon stays up to run them.
            log.debug("heartbeat not written: %s", error)

    def _evidence_upkeep(self, *, catch_up_before: float | None) -> Upkeep:
        """Start the chain's upkeep in a process of its own: the catch-up of the runs it lacks
        that started before `catch_up_before` (at the daemon's start), then the verification
        of the whole chain. Both read the chain or the history through, and the memory that
        takes goes back when the process ends (a first start over 100,000 runs kept 200 MB in
        the daemon for good)."""
        argv = [sys.executable, "-m", "bdr.evidence.journal", str(self.config_path)]
        if catch_up_before is not None:
            argv.append(repr(catch_up_before))
        return Upkeep(argv)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload.set()
        else:
            self._stop.set()

    def reload(self, db: History) -> None:
        try:
            config = checked_config(self.config_path)
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
        next_runs = self.scheduler.next_runs()
        runs.save_schedule(
            db,
            [
                runs.ScheduledJob(
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
        self.scheduler.shutdown()
        # Runs still queued for a repository have not started: they end now, interrupted.
        # Otherwise one waiting behind a technician's restore holds the stop for lock_timeout.
        stop_waiting()
        grace = float(self.config.appliance.stop_grace)
        deadline = time.monotonic() + grace
        if self._active:
            log.info("stopping: waiting up to %.0fs for %s", grace, ", ".join(sorted(self._active)))
        while self._active and time.monotonic() < deadline:
            time.sleep(0.2)
        if self._active:
            count = runner.stop_all()
            log.info("stopping: interrupted %d restic process(es)", count)
            end = time.monotonic() + 60
            while self._active and time.monotonic() < end:
                time.sleep(0.2)
        runs.set_daemon_value(db, "stopped_at", str(time.time()))
        log.info("daemon stopped")
        return 0


def _execute(ctx: Context, spec: JobSpec) -> None:
    if spec.kind == "backup":
        from bdr.actions.backup import backup_plans

        backup_plans(ctx, ctx.config.plans_named([spec.subject]))
    elif spec.kind == "drill":
        from bdr.actions.drill import run_drill

        run_drill(ctx, spec.subject)
    elif spec.kind == "check":
        from bdr.actions.check import check_repository

        check = ctx.config.checks[spec.subject]
        check_repository(ctx, check.repository, check.read_data_cycle)
    elif spec.kind == "prune":
        from bdr.actions.prune import prune_repository

        prune_repository(ctx, spec.subject)
    elif spec.kind == "report":
        from bdr.actions.report import Request, make_report

        make_report(ctx, Request())


def startup_recovery(config: Config, db: History, restic: Restic) -> None:
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


def checked_config(config_path: Path) -> Config:
    """The config, as `bdr config check` judges it: the daemon never runs one it refuses."""
    from bdr.config.load import apprise_problems

    config = load_config(config_path)
    problems = apprise_problems(config)
    if problems:
        raise ConfigError(problems, source=str(config_path))
    return config


def _start(config_path: Path, clock: Clock) -> int:
    config = checked_config(config_path)
    restic = Restic.detect(
        os.environ.get("BDR_RESTIC", "restic"), cache_dir=config.appliance.state_dir / "cache"
    )
    return Daemon(config_path=config_path, config=config, restic=restic, clock=clock).serve()
