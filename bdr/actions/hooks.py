"""Running a plan's `before` hooks: argv lists, no shell, each with a timeout."""

from __future__ import annotations

import shlex
import subprocess

from bdr.errors import BdrError

STDERR_TAIL = 500


class HookFailed(BdrError):
    pass


def run_hooks(hooks: list[list[str]], *, timeout: float, where: str) -> None:
    """Run each hook in order; raise HookFailed naming the first that fails, with stderr tail."""
    for index, argv in enumerate(hooks):
        label = f"{where}.before.{index} ({shlex.join(argv)})"
        try:
            completed = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise HookFailed(f"{label}: program not found") from None
        except PermissionError:
            raise HookFailed(f"{label}: program is not executable") from None
        except subprocess.TimeoutExpired:
            raise HookFailed(f"{label}: still running after {timeout:.0f}s, stopped") from None
        if completed.returncode != 0:
            tail = completed.stderr.decode(errors="replace").strip()[-STDERR_TAIL:]
            detail = f": {tail}" if tail else ""
            raise HookFailed(f"{label}: exited with {completed.returncode}{detail}")
