"""The drill's orchestration, with a fake restic that answers from recorded restic 0.14 output.

No process runs: `ls` is the recorded listing; `restore` writes the listed files (or fewer,
or a recorded failure) into the target, as restic would. The ways a drill restores are in
test_drill_strategies.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bdr.actions import scratch
from bdr.actions.context import Context
from bdr.actions.drill import run_drill
from bdr.config.schema import validate
from bdr.errors import ExitCode
from bdr.store import drills
from bdr.store.database import connect
from tests.unit.fake_restic import FakeRestic, Reply

FIXTURES = Path(__file__).parents[2] / "fixtures" / "restic-0.14.0"
LISTING = (FIXTURES / "ls.ndjson").read_text().splitlines(keepends=True)


def recorded(*, drop: str | None = None, restore_stderr: str | None = None) -> FakeRestic:
    """restic answering `ls` and `restore` as 0.14 did when the fixtures were recorded: the
    restore writes the listed files (but `drop`) into its target, or fails with
    `restore_stderr`."""

    def restore(args: tuple[str, ...]) -> Reply:
        if restore_stderr is not None:
            return Reply(code=1, stderr=restore_stderr)
        target = Path(args[args.index("--target") + 1])
        for line in LISTING[1:]:
            node = json.loads(line)
            path = target / node["path"].lstrip("/")
            if node["type"] == "dir":
                path.mkdir(parents=True, exist_ok=True)
            elif node["path"] != drop:
                path.write_bytes(b"x" * node["size"])
        return Reply()

    return FakeRestic({"ls": lambda _: Reply(stdout=LISTING), "restore": restore})


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
        restic=recorded(),
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
    ctx.restic = recorded(drop="/src/b.txt")
    result = run_drill(ctx, "onsite")
    assert result.verdict.kind == "data"
    assert result.outcome.missing == ("/src/b.txt",)
    assert result.exit_code == ExitCode.DRILL_FAILED
    assert drills.last(ctx.db, "onsite").run.status == "failed"  # type: ignore[union-attr]


def test_a_restore_out_of_space_is_an_error(ctx: Context):
    stderr = (FIXTURES / "stderr-restore-no-space.txt").read_text()
    ctx.restic = recorded(restore_stderr=stderr)
    result = run_drill(ctx, "onsite")
    assert result.verdict.kind == "error"
    assert "ran out of space" in result.verdict.reason
    assert "no space left on device" in result.verdict.reason
