"""The runner, on stand-in processes: no restic runs.

The runner's spawner is replaced by one that hands out `Child` objects whose stdout and stderr
are recorded restic output: what the runner streams, keeps, classifies and redacts, its retry
after a stale lock, and how the supervisor and the run's deadline stop it.
"""

from __future__ import annotations

import io
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from bdr.errors import Interrupted, RunTimedOut
from bdr.restic import argv as build
from bdr.restic.environment import MASK, ResticEnv
from bdr.restic.outcome import Outcome
from bdr.restic.runner import Restic, deadline
from bdr.restic.supervisor import Supervisor
from bdr.restic.version import features_for

FIXTURES = Path(__file__).parents[2] / "fixtures" / "restic-0.14.0"
SECRET = "correct horse battery staple"
ENV = ResticEnv({"RESTIC_PASSWORD": SECRET}, frozenset({SECRET}))


class Child:
    """A started restic that printed `stdout` and `stderr` and exits with `code`."""

    def __init__(self, pid: int, stdout: str = "", stderr: str = "", code: int = 0) -> None:
        self.pid = pid
        self.stdout = io.StringIO(stdout)
        self.stderr = io.StringIO(stderr)
        self._code = code
        self.returncode: int | None = None
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self.returncode = self._code
        return self._code

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)

    def kill(self) -> None:
        self.signals.append(signal.SIGKILL)


class Spawner:
    """Hands out the children in order; remembers each argv and environment."""

    def __init__(self, *children: Child) -> None:
        self.children = list(children)
        self.started: list[tuple[Sequence[str], dict[str, str]]] = []

    def __call__(self, argv: Sequence[str], env: dict[str, str]) -> Child:
        self.started.append((argv, env))
        return self.children.pop(0)


def restic(spawner: Spawner, supervisor: Supervisor | None = None) -> Restic:
    return Restic("restic", features_for((0, 14, 0)), None, supervisor, spawner=spawner)


def test_stdout_is_streamed_and_kept_and_stderr_redacted():
    spawner = Spawner(Child(1, "a\nb\n", f"Fatal: wrong password {SECRET}\n", code=1))
    seen: list[str] = []
    result = restic(spawner).run(("restic", "snapshots"), ENV, on_line=seen.append)
    assert seen == result.stdout == ["a\n", "b\n"]
    assert spawner.started[0][1] == {"RESTIC_PASSWORD": SECRET}, "secrets by environment only"
    assert SECRET not in result.stderr_tail and MASK in result.stderr_tail
    assert result.exit_code == 1 and not result.ok


def test_a_stale_lock_is_removed_and_the_command_run_once_more():
    locked = (FIXTURES / "stderr-locked.txt").read_text()
    spawner = Spawner(Child(1, stderr=locked, code=1), Child(2), Child(3, "done\n"))
    result = restic(spawner).run(("restic", "backup"), ENV)
    assert [argv[1] for argv, _ in spawner.started] == ["backup", "unlock", "backup"]
    assert result.ok and result.stdout == ["done\n"]


def test_a_lock_that_stays_is_the_result():
    locked = (FIXTURES / "stderr-locked.txt").read_text()
    spawner = Spawner(Child(1, stderr=locked, code=1), Child(2), Child(3, stderr=locked, code=1))
    result = restic(spawner).run(("restic", "backup"), ENV)
    assert result.outcome is Outcome.LOCKED
    assert len(spawner.started) == 3


def test_nothing_starts_once_the_supervisor_stops():
    supervisor = Supervisor()
    supervisor.stop()
    spawner = Spawner(Child(1))
    with pytest.raises(Interrupted, match="no new restic"):
        restic(spawner, supervisor).run(("restic", "backup"), ENV)
    assert spawner.started == []


def test_a_restic_the_supervisor_stops_ends_its_run_interrupted():
    supervisor = Supervisor()
    child = Child(7, "first\nsecond\n")
    with pytest.raises(Interrupted, match="restic was stopped"):
        restic(Spawner(child), supervisor).run(
            ("restic", "backup"), ENV, on_line=lambda _: supervisor.stop()
        )
    assert child.signals[0] == signal.SIGINT, "as Ctrl-C: restic removes its own lock"
    assert supervisor.live(7) is None


def test_a_run_past_its_deadline_starts_no_restic():
    spawner = Spawner(Child(1))
    with (
        pytest.raises(RunTimedOut, match=r"after 2h \(max_run_time\): restic was not started"),
        deadline(0, "2h (max_run_time)"),
    ):
        restic(spawner).run(("restic", "backup"), ENV)
    assert spawner.started == []


def test_a_command_started_beside_gives_its_result_when_asked():
    spawner = Spawner(Child(4, '{"id":"x"}\n'))
    runner = restic(spawner)
    beside = runner.start(runner.args(build.ls, "latest"), ENV)
    result = beside.result()
    assert result.ok and result.stdout == ['{"id":"x"}\n']


def test_a_missing_binary_says_which():
    def missing(argv: Sequence[str], env: dict[str, str]) -> Child:
        raise FileNotFoundError(argv[0])

    runner = Restic("/opt/restic", features_for((0, 14, 0)), spawner=missing)
    with pytest.raises(Exception, match="restic binary '/opt/restic' not found"):
        runner.run(("/opt/restic", "version"), ENV)
