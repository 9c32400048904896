"""A typed fake of the restic gateway, for unit tests of pure orchestration: no process runs.

Each subcommand is answered by a function of the call (its argv) returning a `Reply`: the
lines of stdout, an exit code and stderr as restic 0.14 printed them in the recorded fixtures.
A reply with `hang` waits until the supervisor stops restic, as a long restic would, and then
ends the way the runner does: Interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bdr.errors import Interrupted
from bdr.restic import argv as build
from bdr.restic.environment import ResticEnv
from bdr.restic.gateway import LineSink, ResticGateway
from bdr.restic.outcome import Outcome, classify
from bdr.restic.result import Result
from bdr.restic.supervisor import Supervisor
from bdr.restic.version import Features, features_for


@dataclass(frozen=True)
class Reply:
    stdout: list[str] = field(default_factory=list)
    code: int = 0
    stderr: str = ""
    hang: bool = False  # until the supervisor stops restic


Answer = Callable[[tuple[str, ...]], Reply]


def ok(_: tuple[str, ...]) -> Reply:
    return Reply()


class FakeRestic:
    """Answers each subcommand (`ls`, `restore`, `backup`...) with `answers[subcommand]`."""

    def __init__(
        self,
        answers: dict[str, Answer] | None = None,
        *,
        features: Features | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.answers = dict(answers or {})
        self.features = features or features_for((0, 14, 0))
        self.supervisor = supervisor or Supervisor()
        self.calls: list[tuple[str, ...]] = []

    def subcommands(self) -> list[str]:
        """The subcommands run so far, in order."""
        return [call[1] for call in self.calls]

    def args(
        self, builder: Callable[..., tuple[str, ...]], *a: object, **kw: object
    ) -> tuple[str, ...]:
        return builder(*a, binary="restic", cache_dir=None, **kw)

    def run(
        self,
        args: tuple[str, ...],
        env: ResticEnv,
        *,
        on_line: LineSink | None = None,
        on_start: Callable[[int], None] | None = None,
        unlock_retry: bool = True,
        keep_stdout: bool = True,
    ) -> Result:
        result = self._once(args, on_line, keep_stdout)
        if unlock_retry:
            result = self.retry_if_locked(result, args, env, on_line, on_start, keep_stdout)
        return result

    def retry_if_locked(
        self,
        result: Result,
        args: tuple[str, ...],
        env: ResticEnv,
        on_line: LineSink | None = None,
        on_start: Callable[[int], None] | None = None,
        keep_stdout: bool = True,
    ) -> Result:
        if result.outcome is not Outcome.LOCKED:
            return result
        self._once(self.args(build.unlock), None, False)
        return self._once(args, on_line, keep_stdout)

    def start(
        self, args: tuple[str, ...], env: ResticEnv, *, on_line: LineSink | None = None
    ) -> Later:
        return Later(lambda: self._once(args, on_line, on_line is None))

    def _once(self, args: tuple[str, ...], on_line: LineSink | None, keep: bool) -> Result:
        self.supervisor.refuse_if_stopping("no new restic is started")
        self.calls.append(args)
        answer = self.answers.get(args[1])
        if answer is None:
            raise AssertionError(f"unexpected restic call {args}")
        reply = answer(args)
        if reply.hang:
            self.supervisor.wait_stopped(60)
            raise Interrupted("bdr is shutting down; restic was stopped")
        if on_line is not None:
            for line in reply.stdout:
                on_line(line)
        return Result(
            argv=args,
            exit_code=reply.code,
            outcome=classify(reply.code, reply.stderr),
            stdout=list(reply.stdout) if keep else [],
            stderr_tail=reply.stderr[-1000:],
            stderr_head=reply.stderr[:4000],
        )


class Later:
    """A command started beside: run when its result is first asked for (then kept, as the
    runner keeps it), never once stopped."""

    def __init__(self, run: Callable[[], Result]) -> None:
        self._run = run
        self._result: Result | None = None
        self.stopped = False

    def result(self) -> Result:
        assert not self.stopped, "the result of a stopped command was asked for"
        if self._result is None:
            self._result = self._run()
        return self._result

    def stop(self) -> None:
        self.stopped = True


def _typed(fake: FakeRestic) -> ResticGateway:
    return fake  # mypy proves here that the fake is a gateway
