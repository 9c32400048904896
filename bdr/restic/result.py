"""A finished restic command, and the one-line error it gives."""

from __future__ import annotations

from dataclasses import dataclass, field

from bdr.errors import BdrError, RepositoryAccessError, RepositoryBusyError
from bdr.restic.outcome import Outcome, lock_holder, telling_line


@dataclass(frozen=True)
class Result:
    """A finished restic command."""

    argv: tuple[str, ...]
    exit_code: int
    outcome: Outcome
    stdout: list[str]
    stderr_tail: str
    stderr_json: list[str] = field(default_factory=list)
    # The first lines of stderr: where restic states a cause (no space) before thousands of
    # consequences (every file's timestamps) push it out of the tail.
    stderr_head: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def error_text(self) -> str:
        """Return restic's error line, for one-line error messages (never a Go stack frame)."""
        telling = telling_line(self.outcome, self.stderr_head + "\n" + self.stderr_tail)
        return telling or error_line(self.stderr_tail, self.exit_code)


def _stack_frames(lines: list[str]) -> set[int]:
    """Return the indexes of lines that belong to a Go stack trace (a function, then its file)."""
    frames: set[int] = set()
    for index, line in enumerate(lines):
        if (line.startswith("\t") and ".go:" in line) or line.startswith("\truntime/"):
            frames.add(index)
            if index > 0:
                frames.add(index - 1)
        elif line.startswith("goroutine ") or line.startswith("panic: "):
            frames.add(index)
    return frames


def error_line(stderr: str, exit_code: int) -> str:
    """Return the line of restic's stderr that says what went wrong.

    restic's `Fatal:` line when there is one; else the last line that is not part of a Go stack
    trace (restic 0.14 prints the error, then the trace of where it happened).
    """
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    frames = _stack_frames(lines)
    lines = [line for index, line in enumerate(lines) if index not in frames]
    fatal = [line for line in lines if line.startswith("Fatal:")]
    chosen = fatal[-1] if fatal else (lines[-1] if lines else f"exit code {exit_code}")
    return chosen.removeprefix("Fatal: ").strip()


def require_ok(result: Result, what: str) -> Result:
    """Return `result` when restic succeeded; otherwise raise the BdrError its outcome maps to."""
    if result.ok:
        return result
    text = result.error_text()
    # Missing, a wrong password, refused credentials: one map says which (outcome.py).
    if result.outcome.exit_code is RepositoryAccessError.exit_code:
        raise RepositoryAccessError(f"{what}: {result.outcome.value}: {text}")
    if result.outcome is Outcome.LOCKED:
        holder = lock_holder(result.stderr_head + "\n" + result.stderr_tail)
        if holder is None:
            raise RepositoryBusyError(f"{what}: repository locked by another restic: {text}")
        # bdr has already removed stale locks (restic unlock) and retried: this one is live.
        raise RepositoryBusyError(
            f"{what}: repository locked by a live restic: {holder}",
            hint="wait for it to finish (bdr tries again at the next run); `restic unlock` "
            "removes only stale locks, never a live one",
        )
    if result.outcome is Outcome.NO_SPACE:
        # Where restic writes: the repository (backup, copy, prune) or a restore's target.
        raise BdrError(f"{what}: storage is full: {text}", hint="free space where restic writes")
    raise BdrError(f"{what}: {text}")
