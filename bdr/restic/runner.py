"""The only place where bdr starts restic.

Runs one command with its environment, streams stdout lines to the caller, keeps the tail of
stderr, classifies the outcome, and on a restic lock error runs `restic unlock` (stale locks
only) once before one retry. An interrupt of bdr is passed on to restic as SIGINT, so that
restic removes its own lock, and then re-raised.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import logging
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from bdr import privilege, spawn
from bdr.errors import Interrupted, RunTimedOut, UsageError
from bdr.restic import argv as build
from bdr.restic import version_cache
from bdr.restic.environment import ResticEnv
from bdr.restic.outcome import Outcome, classify
from bdr.restic.result import Result
from bdr.restic.supervisor import Process, Supervisor
from bdr.restic.version import Features, features_for, parse_version

log = logging.getLogger(__name__)

# The run's deadline (monotonic, the limit's text), set by the run around all of its restic.
# State of one context (a run's thread, and the threads it starts with its context), never
# shared between runs: the one module-level variable bdr writes.
_deadline: contextvars.ContextVar[tuple[float, str] | None] = contextvars.ContextVar(
    "bdr_run_deadline", default=None
)

STDERR_TAIL_BYTES = 1000
MAX_JSON_ERRORS = 1000
INTERRUPT_GRACE_SECONDS = 30.0


class ResticNotFound(UsageError):
    pass


class Child(Process, Protocol):
    """A started restic: a `subprocess.Popen` with text pipes."""

    @property
    def stdout(self) -> IO[str] | None: ...

    @property
    def stderr(self) -> IO[str] | None: ...

    @property
    def returncode(self) -> int | Any: ...


Spawner = Callable[[Sequence[str], dict[str, str]], Child]


class Restic:
    """A restic binary of known version, with its cache directory; its processes are held by
    `supervisor` (the daemon's, or the command line's)."""

    def __init__(
        self,
        binary: str,
        features: Features,
        cache_dir: Path | None = None,
        supervisor: Supervisor | None = None,
        spawner: Spawner = spawn.start,
    ) -> None:
        self.binary = binary
        self.features = features
        self.cache_dir = str(cache_dir) if cache_dir else None
        self.supervisor = supervisor or Supervisor()
        # What starts a process: spawn.start, or a unit test's stand-in.
        self.spawner = spawner

    @classmethod
    def detect(
        cls,
        binary: str = "restic",
        cache_dir: Path | None = None,
        supervisor: Supervisor | None = None,
    ) -> Restic:
        """Return the installed restic; raise ResticNotFound when it is missing or unsupported.

        The version is asked once per binary and remembered in `cache_dir`."""
        binary_key = version_cache.key(binary)
        text = version_cache.recall(cache_dir, binary_key)
        asked = text is None
        if text is None:
            try:
                completed = subprocess.run(
                    build.version(binary), capture_output=True, text=True, timeout=30, check=False
                )
            except FileNotFoundError:
                raise ResticNotFound(
                    f"restic binary {binary!r} not found",
                    hint="install it: apt-get install restic (or set BDR_RESTIC)",
                ) from None
            text = completed.stdout
        try:
            features = features_for(parse_version(text))
        except ValueError as error:
            raise ResticNotFound(str(error)) from None
        if asked:
            version_cache.remember(cache_dir, binary_key, text)
        if features.newer_than_known:
            log.warning(
                "restic %s is newer than bdr knows (0.19.x); running with 0.19 behaviour",
                features.version_text,
            )
        return cls(binary, features, cache_dir, supervisor)

    def run(
        self,
        args: tuple[str, ...],
        env: ResticEnv,
        *,
        on_line: Callable[[str], None] | None = None,
        on_start: Callable[[int], None] | None = None,
        unlock_retry: bool = True,
        keep_stdout: bool = True,
    ) -> Result:
        """Run restic with `args` (everything after the binary) and return its Result.

        On a restic lock error, runs `restic unlock` once and retries once. Raises
        KeyboardInterrupt (or whatever interrupted bdr) after restic has stopped.
        """
        result = self._run_once(args, env, on_line, on_start, keep_stdout)
        if unlock_retry:
            result = self.retry_if_locked(result, args, env, on_line, on_start, keep_stdout)
        return result

    def retry_if_locked(
        self,
        result: Result,
        args: tuple[str, ...],
        env: ResticEnv,
        on_line: Callable[[str], None] | None = None,
        on_start: Callable[[int], None] | None = None,
        keep_stdout: bool = True,
    ) -> Result:
        """Return `result`, or when restic found the repository locked, the result of running
        `args` again after `restic unlock` (which removes stale locks only)."""
        if result.outcome is not Outcome.LOCKED:
            return result
        log.info("repository locked; removing stale locks with restic unlock and retrying once")
        self._run_once(self.args(build.unlock), env, None, None, False)
        return self._run_once(args, env, on_line, on_start, keep_stdout)

    def start(
        self,
        args: tuple[str, ...],
        env: ResticEnv,
        *,
        on_line: Callable[[str], None] | None = None,
    ) -> Beside:
        """Start restic with `args` in a thread beside the caller's own restic: what the caller
        waits for with `Beside.result()`, or stops with `Beside.stop()`. With `on_line`, each
        line of stdout goes there (in that thread) and is not kept. No lock retry: a command
        run beside another one of the same run does not hold the repository alone."""
        return Beside(self, args, env, on_line)

    def args(
        self, builder: Callable[..., tuple[str, ...]], *a: object, **kw: object
    ) -> tuple[str, ...]:
        """Return the argv of `builder` for this binary and cache directory. A restic started
        as root (a root restore's) uses no cache: its files there would be root's, and the
        service user's restic could no longer write them."""
        cache_dir = build.NO_CACHE if privilege.raised() else self.cache_dir
        return builder(*a, binary=self.binary, cache_dir=cache_dir, **kw)

    def _spawn(self, argv: tuple[str, ...], env: ResticEnv) -> Child:
        try:
            return self.spawner(argv, dict(env.variables))
        except FileNotFoundError:
            raise ResticNotFound(f"restic binary {argv[0]!r} not found") from None

    def _run_once(
        self,
        argv: tuple[str, ...],
        env: ResticEnv,
        on_line: Callable[[str], None] | None,
        on_start: Callable[[int], None] | None,
        keep_stdout: bool,
    ) -> Result:
        argv = (argv[0], *env.options, *argv[1:])
        self.supervisor.refuse_if_stopping("no new restic is started")
        limit = _deadline.get()
        if limit is not None and time.monotonic() >= limit[0]:
            raise RunTimedOut(f"timed out after {limit[1]}: restic was not started")
        log.debug("running %s", shlex.join(argv))
        started = time.monotonic()
        process: Child | None = None
        timer: threading.Timer | None = None
        reader: threading.Thread | None = None
        timed_out = threading.Event()
        head: list[str] = []
        tail: collections.deque[str] = collections.deque()
        json_errors: list[str] = []
        stdout: list[str] = []
        try:
            # A Ctrl-C or SIGTERM that lands between restic's start and bdr holding it would
            # leave restic running, in a session of its own, with its lock (a loaded CI run saw
            # one): they wait until restic is held, and then stop it as any interrupt does.
            with spawn.interrupts_held():
                process = self._spawn(argv, env)
                # A stop between the check above and here interrupts it at once.
                self.supervisor.hold(process)
                if limit is not None:
                    timer = _timer(process, limit, timed_out)
                reader = threading.Thread(
                    target=_read_stderr, args=(process, head, tail, json_errors), daemon=True
                )
                reader.start()
            if on_start is not None:
                on_start(process.pid)
            assert process.stdout is not None
            for line in process.stdout:
                if keep_stdout:
                    stdout.append(line)
                if on_line is not None:
                    on_line(line)
            process.wait()
        except BaseException:
            if process is not None:
                _stop(process)
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if reader is not None:
                reader.join(timeout=5)
            stopped = process is not None and self.supervisor.release(process)
        assert process is not None  # a failed start has raised
        if stopped:
            raise Interrupted("bdr is shutting down; restic was stopped")
        if timed_out.is_set() and limit is not None:
            raise RunTimedOut(f"timed out after {limit[1]}: restic was stopped")
        raw_head, raw_tail = "".join(head), "".join(tail)
        # Classified on restic's own words: a password that is a common word ("lock") must
        # not change what happened. Only what is kept and shown is redacted.
        outcome = classify(process.returncode, raw_head + raw_tail)
        stderr_tail = env.redact(raw_head + raw_tail)[-STDERR_TAIL_BYTES:]
        result = Result(
            argv=argv,
            exit_code=process.returncode,
            outcome=outcome,
            stdout=stdout,
            stderr_tail=stderr_tail,
            stderr_json=json_errors,
            duration=time.monotonic() - started,
            stderr_head=env.redact(raw_head),
        )
        log.debug(
            "restic exited %d (%s) after %.1fs", process.returncode, outcome.value, result.duration
        )
        return result


class Beside:
    """A restic command running in a thread of its own, under the caller's run deadline."""

    def __init__(
        self,
        restic: Restic,
        args: tuple[str, ...],
        env: ResticEnv,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self._pid: int | None = None
        self._supervisor = restic.supervisor
        self._stop_asked = False
        self._result: Result | None = None
        self._error: BaseException | None = None
        context = contextvars.copy_context()  # the run's deadline holds for this restic too
        self._thread = threading.Thread(
            target=context.run, args=(self._run, restic, args, env, on_line), daemon=True
        )
        self._thread.start()

    def _run(
        self,
        restic: Restic,
        args: tuple[str, ...],
        env: ResticEnv,
        on_line: Callable[[str], None] | None,
    ) -> None:
        try:
            self._result = restic._run_once(args, env, on_line, self._started, on_line is None)
        except BaseException as error:  # handed to the caller by result()
            self._error = error

    def _started(self, pid: int) -> None:
        self._pid = pid
        if self._stop_asked:  # stop() came while restic was starting: it found no pid
            raise Interrupted("stopped as it started")

    def result(self) -> Result:
        """Wait for the command; return its Result or raise what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def stop(self) -> None:
        """Stop the command as Ctrl-C would, if it still runs, and wait for it."""
        self._stop_asked = True
        process = self._supervisor.live(self._pid)
        if process is not None:
            _stop(process)
        self._thread.join()


def _timer(process: Child, limit: tuple[float, str], timed_out: threading.Event) -> threading.Timer:
    """Start the timer that stops `process` at the run's deadline."""

    def time_out() -> None:
        timed_out.set()
        log.error("restic pid %d: the run %s; stopping it", process.pid, limit[1])
        _stop(process)

    timer = threading.Timer(max(0.0, limit[0] - time.monotonic()), time_out)
    timer.daemon = True
    timer.start()
    return timer


def _read_stderr(
    process: Child,
    head: list[str],
    tail: collections.deque[str],
    json_errors: list[str],
) -> None:
    size = head_size = 0
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("{"):
            # restic 0.14 writes backup item errors to stderr as JSON.
            if len(json_errors) < MAX_JSON_ERRORS:
                json_errors.append(line)
            continue
        if head_size < STDERR_TAIL_BYTES * 4:
            head.append(line)
            head_size += len(line)
            continue
        tail.append(line)
        size += len(line)
        while size > STDERR_TAIL_BYTES * 4 and len(tail) > 1:
            size -= len(tail.popleft())


def _stop(process: Process) -> None:
    """Ask restic to stop as Ctrl-C would (it then removes its lock), then kill it if it lingers."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=INTERRUPT_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise


@contextlib.contextmanager
def deadline(seconds: float | None, what: str) -> Iterator[None]:
    """Within the block, every restic is stopped (SIGINT, then SIGKILL) when `seconds` have
    passed since the block began, and RunTimedOut is raised: a hung restic must not hold the
    run slot and the repository lock for ever."""
    if seconds is None:
        yield
        return
    token = _deadline.set((time.monotonic() + seconds, what))
    try:
        yield
    finally:
        _deadline.reset(token)
