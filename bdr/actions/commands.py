"""Running a local program with a timeout: `before` hooks and application checks alike.

argv lists, never a shell; no stdin; output captured. The program gets an environment of its
own (a short allow-list: never bdr's RESTIC_* or cloud credentials), its own process group,
which is ended whole when it overstays its timeout, and no capability of the service's (the
unit grants bdr CAP_DAC_READ_SEARCH to read every source, not to its hooks). Each failure is
one line that names the command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass

from bdr import spawn

OUTPUT_TAIL = 500
# What a program may see of bdr's environment: where things are and how to speak, no secret.
ALLOWED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "USER", "LOGNAME", "TMPDIR")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STOP_GRACE = 5.0


@dataclass(frozen=True)
class Completed:
    exit_code: int
    stdout: str
    stderr: str

    def failure(self) -> str | None:
        """Return "exited with N: <tail of stderr or stdout>" for a non-zero exit, else None."""
        if self.exit_code == 0:
            return None
        output = (self.stderr.strip() or self.stdout.strip())[-OUTPUT_TAIL:]
        return f"exited with {self.exit_code}" + (f": {output}" if output else "")


class CommandProblem(Exception):
    """The program could not be run to its end: not found, not executable, or too slow."""


def environment() -> dict[str, str]:
    """The allow-listed environment a hook or check runs with."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ALLOWED_ENVIRONMENT or key.startswith("LC_")
    }
    env.setdefault("PATH", DEFAULT_PATH)
    return env


def _without_capabilities() -> list[str]:
    """setpriv (util-linux, on every Debian) clearing the inheritable and ambient capabilities
    the program would otherwise get from the service."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--inh-caps=-all", "--ambient-caps=-all", "--"] if setpriv else []


def _runnable(program: str, env: dict[str, str]) -> None:
    if "/" in program:
        if not os.path.isfile(program):
            raise CommandProblem(f"program {program!r} not found")
        if not os.access(program, os.X_OK):
            raise CommandProblem(f"program {program!r} is not executable")
    elif shutil.which(program, path=env["PATH"]) is None:
        raise CommandProblem(f"program {program!r} not found")


def run_command(argv: list[str], *, timeout: float) -> Completed:
    """Run `argv` and return how it ended; raise CommandProblem when it could not run or finish."""
    env = environment()
    _runnable(argv[0], env)
    process: subprocess.Popen[str] | None = None
    try:
        with spawn.interrupts_held():
            process = _start(argv, env)
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        assert process is not None
        _end_group(process)
        raise CommandProblem(f"still running after {timeout:.0f}s, stopped") from None
    except BaseException:
        if process is not None:
            _end_group(process)
        raise
    return Completed(process.returncode, stdout, stderr)


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    try:
        return spawn.start([*_without_capabilities(), *argv], env)
    except FileNotFoundError:
        raise CommandProblem(f"program {argv[0]!r} not found") from None
    except PermissionError:
        raise CommandProblem(f"program {argv[0]!r} is not executable") from None


def _end_group(process: subprocess.Popen[str]) -> None:
    """Stop the program and every process it started (its process group): TERM, a grace, then
    KILL for whatever is left of the group, the program's children included."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=STOP_GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=STOP_GRACE)
