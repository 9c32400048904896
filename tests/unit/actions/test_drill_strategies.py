"""Every way a drill restores (bdr/drill/strategy.py), run through the typed fake of restic.

No process runs. The client's share is a real tree in tmp_path; its snapshot is what the fake
restic holds: `ls` lists it as restic 0.14 does (the snapshot first, then its nodes; with
`--recursive PATH...` only those subtrees), `restore` writes the files its `--include`
patterns select, with the content they had when the snapshot was taken.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bdr.actions import scratch
from bdr.actions.context import Context
from bdr.actions.drill import run_drill
from bdr.config.ownership import canary_path
from bdr.config.schema import validate
from bdr.drill.strategy import Tuning
from bdr.restic.patterns import selector
from bdr.store import runs
from bdr.store.database import connect
from bdr.store.outcomes import BackupOutcome, SourcePath
from tests.unit.fake_restic import FakeRestic, Reply

SNAPSHOT_ID = "5e1f0c2a" * 8
# Every file of the share was last written then, as the snapshot's listing says.
WRITTEN = "2026-12-01T01:00:00Z"
WRITTEN_AT = datetime(2026, 12, 1, 1, tzinfo=UTC).timestamp()


class Share:
    """A client's share (4 folders of 50 files) and the one snapshot of it restic holds."""

    def __init__(self, root: Path, state_dir: Path) -> None:
        self.root = root
        for folder in range(4):
            (root / f"dept{folder}").mkdir(parents=True)
            for index in range(50):
                text = f"dept {folder} document {index}\n" * (index + 1)
                path = root / f"dept{folder}" / f"doc{index:02d}.txt"
                path.write_text(text)
                os.utime(path, (WRITTEN_AT, WRITTEN_AT))
        self.canary = Path(canary_path(state_dir, "office"))
        self.canary.parent.mkdir(parents=True)
        self.canary.write_bytes(b"the canary of this backup\n")
        self.snapshot = {
            str(path): path.read_bytes() for path in [*root.rglob("*.txt"), self.canary]
        }
        self.listings: list[tuple[str, ...]] = []  # the subtrees each `ls` named

    def backed_up(self, db_ctx: Context) -> None:
        """Record the backup run that made the snapshot, as `bdr backup` does."""
        db = db_ctx.db
        run_id = runs.start_run(db, "backup", plan="office", repository="local")
        runs.finish_run(
            db,
            run_id,
            runs.OK,
            snapshot_id=SNAPSHOT_ID,
            bytes_processed=sum(len(data) for data in self.snapshot.values()),
            files_processed=len(self.snapshot),
            outcome=BackupOutcome(
                canary_sha256=hashlib.sha256(self.snapshot[str(self.canary)]).hexdigest(),
                canary_path=str(self.canary),
                sources=(SourcePath(str(self.root), str(self.root)),),
            ),
        )

    def ls(self, args: tuple[str, ...]) -> Reply:
        within = args[args.index("--recursive") + 2 :] if "--recursive" in args else ()
        self.listings.append(within)
        head = {
            "time": "2026-12-01T02:00:00.000000000Z",
            "tree": "f" * 64,
            "paths": [str(self.root)],
            "hostname": "appliance",
            "tags": ["bdr-plan=office"],
            "id": SNAPSHOT_ID,
            "short_id": SNAPSHOT_ID[:8],
            "struct_type": "snapshot",
        }
        lines = [json.dumps(head) + "\n"]
        folders = sorted({str(Path(path).parent) for path in self.snapshot})
        for path in folders:
            lines.append(self._node(path, "dir", 0))
        for path, data in sorted(self.snapshot.items()):
            if not within or any(path == root or path.startswith(root + "/") for root in within):
                lines.append(self._node(path, "file", len(data)))
        return Reply(stdout=lines)

    @staticmethod
    def _node(path: str, kind: str, size: int) -> str:
        node = {
            "name": Path(path).name,
            "type": kind,
            "path": path,
            "size": size,
            "mtime": WRITTEN,
            "struct_type": "node",
        }
        return json.dumps(node) + "\n"

    def restore(self, args: tuple[str, ...]) -> Reply:
        target = Path(args[args.index("--target") + 1])
        patterns = [args[i + 1] for i, arg in enumerate(args) if arg == "--include"]
        selected = selector(patterns) if patterns else lambda _: True
        for path, data in self.snapshot.items():
            if selected(path):
                restored = target / path.lstrip("/")
                restored.parent.mkdir(parents=True, exist_ok=True)
                restored.write_bytes(data)
        return Reply(stdout=[f"restoring <Snapshot {SNAPSHOT_ID[:8]} of [{self.root}]>\n"])


@pytest.fixture(autouse=True)
def _scratch_removed_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scratch, "remove_in_background", scratch.remove)


@pytest.fixture
def share(tmp_path: Path) -> Share:
    return Share(tmp_path / "share", tmp_path / "state")


@pytest.fixture
def ctx(tmp_path: Path, share: Share) -> Context:
    password = tmp_path / "pass"
    password.write_text("a password long enough\n")
    password.chmod(0o600)
    config = validate(
        {
            "appliance": {"state_dir": str(tmp_path / "state"), "scratch_dir": str(tmp_path / "s")},
            "repositories": {
                "local": {"url": str(tmp_path / "repo"), "password_file": str(password)}
            },
            "plans": {"office": {"sources": [str(share.root)], "repository": "local"}},
            "drills": {
                "full": {"plan": "office", "repository": "local"},
                "sample": {
                    "plan": "office",
                    "repository": "local",
                    "kind": "sample",
                    "sample": "10%",
                },
            },
        }
    )
    (tmp_path / "s").mkdir()
    ticks = iter(range(0, 100_000, 2))
    restic = FakeRestic({"ls": share.ls, "restore": share.restore})
    context = Context(
        config=config,
        db=connect(config.appliance.state_dir),
        restic=restic,
        monotonic=lambda: float(next(ticks)),
    )
    share.backed_up(context)
    return context


def calibrate(ctx: Context, share: Share) -> None:
    """Run the full drill that calibrates the tier for samples; forget what restic was asked."""
    assert run_drill(ctx, "full").verdict.kind == "passed"
    assert isinstance(ctx.restic, FakeRestic)
    ctx.restic.calls.clear()
    share.listings.clear()


def calls(ctx: Context) -> list[str]:
    assert isinstance(ctx.restic, FakeRestic)
    return ctx.restic.subcommands()


def test_a_full_drill_restores_while_listing_and_proves_every_file(ctx: Context, share: Share):
    result = run_drill(ctx, "full")
    assert result.verdict.kind == "passed", result.verdict.reason
    assert result.outcome.drill_kind == "full"
    assert result.outcome.files == result.outcome.verified_files == 201
    assert result.outcome.compared_files == 200, "each file compared with the live share"
    # The restore started before the listing was read: the listing ran beside it.
    assert calls(ctx) == ["restore", "ls"] and share.listings == [()]


def test_a_full_drill_that_does_not_fit_by_its_backups_record_lists_first(
    ctx: Context, share: Share, monkeypatch: pytest.MonkeyPatch
):
    from bdr.actions.drill import restore, steps

    for module in (restore, steps):
        monkeypatch.setattr(module, "free_bytes", lambda _: 1000)
    result = run_drill(ctx, "full")
    assert result.verdict.kind == "error"
    assert "scratch area" in result.verdict.reason and "needs" in result.verdict.reason
    assert calls(ctx) == ["ls"], "nothing restored that could not fit"


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("drill", ["full", "sample"])
def test_a_scratch_area_that_fills_under_the_listing_is_a_clear_error(
    ctx: Context, share: Share, monkeypatch: pytest.MonkeyPatch, drill: str
):
    from bdr.actions.drill import restore, steps

    if drill == "sample":
        calibrate(ctx, share)
    for module in (restore, steps):
        monkeypatch.setattr(module, "spool_file", lambda _: FullDisk())
    result = run_drill(ctx, drill)
    assert result.verdict.kind == "error"
    assert result.verdict.reason.startswith(
        f"scratch area {ctx.config.appliance.scratch_dir} ran out of space keeping the "
        "snapshot's listing ("
    )
    assert result.exit_code == 1
    assert not any(ctx.config.appliance.scratch_dir.rglob("*.txt")), "the partial restore removed"


def test_an_older_snapshot_is_listed_then_restored(ctx: Context):
    result = run_drill(ctx, "full", snapshot_id=SNAPSHOT_ID[:8])
    assert result.verdict.kind == "passed", result.verdict.reason
    assert calls(ctx) == ["ls", "restore"]


def test_the_first_sample_drill_of_a_tier_restores_everything_to_calibrate(ctx: Context):
    result = run_drill(ctx, "sample")
    assert result.verdict.kind == "passed", result.verdict.reason
    assert result.outcome.drill_kind == "full", "it calibrates the samples that follow"
    assert result.outcome.files == 201
    assert calls(ctx) == ["restore", "ls"]


def test_a_calibrated_sample_is_chosen_from_the_live_tree_beside_the_whole_listing(
    ctx: Context, share: Share
):
    calibrate(ctx, share)
    result = run_drill(ctx, "sample")
    assert result.verdict.kind == "passed", result.verdict.reason
    outcome = result.outcome
    assert outcome.drill_kind == "sample"
    assert 10 <= outcome.files - 1 <= 40, "about a tenth of the share, and the canary"
    assert outcome.files == outcome.verified_files and outcome.full_files == 201
    assert calls(ctx) == ["restore", "ls"] and share.listings == [()]


def test_a_calibrated_sample_of_a_large_snapshot_lists_only_its_subtrees(
    ctx: Context, share: Share
):
    calibrate(ctx, share)
    ctx.tuning = Tuning(early_listing_max_files=100)  # the snapshot holds 201
    result = run_drill(ctx, "sample")
    assert result.verdict.kind == "passed", result.verdict.reason
    assert result.outcome.full_files == 201, "the snapshot's size from its backup's record"
    (within,) = share.listings
    named = [path for path in within if path.startswith(f"{share.root}/dept")]
    assert 0 < len(named) <= result.outcome.files - 1, "the sample's subtrees, not the share"
    assert set(within) - set(named) == {str(share.canary)}, "and the canary"


def test_a_live_tree_renamed_since_the_backup_chooses_the_sample_again_from_the_listing(
    ctx: Context, share: Share
):
    calibrate(ctx, share)
    for folder in range(4):
        (share.root / f"dept{folder}").rename(share.root / f"renamed{folder}")
    said: list[str] = []
    ctx.say = said.append
    result = run_drill(ctx, "sample")
    assert result.verdict.kind == "passed", result.verdict.reason
    assert any("choosing the sample from the snapshot's listing" in line for line in said)
    # The listing made beside the first restore serves the second choice: listed once.
    assert calls(ctx) == ["restore", "ls", "restore"]
    assert result.outcome.gone_files == result.outcome.files - 1, "the live files moved away"


def test_a_live_tree_that_is_not_there_lists_the_snapshot_first(ctx: Context, share: Share):
    calibrate(ctx, share)
    share.root.rename(share.root.with_name("unmounted"))
    result = run_drill(ctx, "sample")
    assert result.verdict.kind == "passed", result.verdict.reason
    assert calls(ctx) == ["ls", "restore"]
