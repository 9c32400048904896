"""Running a local program with a timeout: `before` hooks and application checks alike.

argv lists, never a shell; no stdin; output captured; a program that overstays its timeout is
stopped. Each failure is one line that names the command.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

OUTPUT_TAIL = 500


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


def run_command(argv: list[str], *, timeout: float) -> Completed:
    """Run `argv` and return how it ended; raise CommandProblem when it could not run or finish."""
    try:
        completed = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise CommandProblem(f"program {argv[0]!r} not found") from None
    except PermissionError:
        raise CommandProblem(f"program {argv[0]!r} is not executable") from None
    except subprocess.TimeoutExpired:
        raise CommandProblem(f"still running after {timeout:.0f}s, stopped") from None
    return Completed(completed.returncode, completed.stdout, completed.stderr)
