"""The drill's orchestration, with a fake restic that answers from recorded restic 0.14 output.

No process runs: `ls` is the recorded listing; `restore` writes the listed files (or fewer,
or a recorded failure) into the target, as restic would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bdr.actions import scratch
from bdr.actions.context import Context
from bdr.actions.drill import run_drill
from bdr.config.schema import validate
from bdr.errors import ExitCode
from bdr.restic.outcome import classify
from bdr.restic.runner import Result
from bdr.restic.version import features_for
from bdr.store import drills
from bdr.store.database import connect

FIXTURES = Path(__file__).parents[2] / "fixtures" / "restic-0.14.0"
LISTING = (FIXTURES / "ls.ndjson").read_text().splitlines(keepends=True)


class FakeRestic:
    """Answers `ls` and `restore` like restic 0.14 did when the fixtures were recorded."""

    features = features_for((0, 14, 0))

    def __init__(self, *, drop: str | None = None, restore_stderr: str | None = None) -> None:
        self.drop = drop  # a file the restore leaves out
        self.restore_stderr = restore_stderr  # recorded stderr of a failed restore
        self.calls: list[tuple[str, ...]] = []

    def args(self, builder: Any, *a: object, **kw: object) -> tuple[str, ...]:
        return builder(*a, binary="restic", cache_dir=None, **kw)

    def run(
        self,
        args: tuple[str, ...],
        env: Any,
        *,
        on_line: Callable[[str], None] | None = None,
        keep_stdout: bool = True,
        **_: Any,
    ) -> Result:
        """As the runner does: each line of stdout to `on_line`, kept when `keep_stdout`."""
        self.calls.append(args)
        if args[1] == "ls":
            for line in LISTING if on_line is not None else []:
                on_line(line)
            return self._result(args, 0, LISTING if keep_stdout else [])
        if args[1] == "restore":
            if self.restore_stderr is not None:
                return self._result(args, 1, [], self.restore_stderr)
            target = Path(args[args.index("--target") + 1])
            for line in LISTING[1:]:
                node = json.loads(line)
                path = target / node["path"].lstrip("/")
                if node["type"] == "dir":
                    path.mkdir(parents=True, exist_ok=True)
                elif node["path"] != self.drop:
                    path.write_bytes(b"x" * node["size"])
            return self._result(args, 0, [])
        raise AssertionError(f"unexpected restic call {args}")

    @staticmethod
    def _result(args: tuple[str, ...], code: int, stdout: list[str], stderr: str = "") -> Result:
        return Result(
            argv=args,
            exit_code=code,
            outcome=classify(code, stderr),
            stdout=stdout,
            stderr_tail=stderr[-1000:],
            stderr_head=stderr[:4000],
        )


@pytest.fixture(autouse=True)
def _scratch_removed_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test starts no process: the scratch a drill hands to a process of its own is
    removed here, at once."""
    monkeypatch.setattr(scratch, "remove_in_background", scratch.remove)


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    password = tmp_path / "pass"
    password.write_text("x\n")
    password.chmod(0o600)
    config = validate(
        {
            "appliance": {"state_dir": str(tmp_path / "state"), "scratch_dir": str(tmp_path / "s")},
            "repositories": {
                "local": {"url": str(tmp_path / "repo"), "password_file": str(password)}
            },
            "plans": {"office": {"sources": ["/src"], "repository": "local"}},
            "drills": {"onsite": {"plan": "office", "repository": "local", "rto": "1h"}},
        }
    )
    ticks = iter(range(0, 1000, 2))
    return Context(
        config=config,
        db=connect(config.appliance.state_dir),
        restic=FakeRestic(),  # type: ignore[arg-type]
        monotonic=lambda: float(next(ticks)),
    )


def test_a_complete_restore_passes_and_is_recorded_typed(ctx: Context):
    result = run_drill(ctx, "onsite")
    assert result.verdict.kind == "passed", result.verdict.reason
    assert result.exit_code == ExitCode.OK
    outcome = result.outcome
    assert (outcome.files, outcome.verified_files, outcome.mismatched_files) == (2, 2, 0)
    assert outcome.gone_files == 2, "the recorded sources are not on this machine"
    # The injected clock: each phase measured between two ticks two seconds apart.
    assert outcome.phases is not None and outcome.phases.restore == 2.0
    assert outcome.recovery_seconds == outcome.projected_seconds == 6.0
    stored = drills.last(ctx.db, "onsite")
    assert stored is not None and stored.outcome == outcome
    assert not any((ctx.config.appliance.scratch_dir).rglob("*")), "scratch removed"


def test_a_file_the_restore_left_out_fails_as_data(ctx: Context):
    ctx.restic = FakeRestic(drop="/src/b.txt")  # type: ignore[assignment]
    result = run_drill(ctx, "onsite")
    assert result.verdict.kind == "data"
    assert result.outcome.missing == ("/src/b.txt",)
    assert result.exit_code == ExitCode.DRILL_FAILED
    assert drills.last(ctx.db, "onsite").run.status == "failed"  # type: ignore[union-attr]


def test_a_restore_out_of_space_is_an_error(ctx: Context):
    stderr = (FIXTURES / "stderr-restore-no-space.txt").read_text()
    ctx.restic = FakeRestic(restore_stderr=stderr)  # type: ignore[assignment]
    result = run_drill(ctx, "onsite")
    assert result.verdict.kind == "error"
    assert "ran out of space" in result.verdict.reason
    assert "no space left on device" in result.verdict.reason
