"""`bdr drill run`: restore a snapshot into scratch, verify it, check it, time it, judge it.

The recovery time is the wall time from the start of the restore until the data is restored
(restic's `--verify` included), verified by bdr, and its application checks have passed. The
scratch directory is removed on every way out, also on failure, Ctrl-C and SIGTERM, unless
the drill keeps it for a failure (`keep_on_failure`).
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bdr.actions import scratch as scratch_area
from bdr.actions.canary import file_sha256
from bdr.actions.context import Context, RunRecord, recorded_run
from bdr.config.model import AppCheck, Drill
from bdr.config.ownership import canary_path, resolve_source
from bdr.config.units import format_size
from bdr.drill.projection import Point, Projection, project
from bdr.drill.sampling import choose_sample, include_batches, sample_limit
from bdr.drill.verdict import DATA, ERROR, PASSED, Verdict, judge
from bdr.drill.verification import (
    MAX_NAMED,
    UNCHANGED,
    SourceComparison,
    TreeDiff,
    compare_tree,
    source_state,
)
from bdr.errors import BdrError, ExitCode, UsageError
from bdr.fsnames import json_name, shown
from bdr.fsutil import free_bytes, same_content
from bdr.restic import argv as build
from bdr.restic.messages import Node, Snapshot, ls_nodes, ls_snapshot
from bdr.restic.outcome import Outcome
from bdr.restic.patterns import escape
from bdr.restic.runner import Result, require_ok
from bdr.store import runs

CHECK_OUTPUT_TAIL = 300


class DataFinding(BdrError):
    """The repository could not give back the snapshot's data: a finding, not a failure to run."""


@dataclass(frozen=True)
class DrillResult:
    run_id: int
    drill: str
    plan: str
    repository: str
    verdict: Verdict
    snapshot_id: str | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> ExitCode:
        if self.verdict.kind == PASSED:
            return ExitCode.OK
        return ExitCode.FAILED if self.verdict.kind == ERROR else ExitCode.DRILL_FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "drill": self.drill,
            "plan": self.plan,
            "repository": self.repository,
            "verdict": self.verdict.kind,
            "reason": self.verdict.reason,
            "snapshot_id": self.snapshot_id,
            "exit_code": int(self.exit_code),
            **self.details,
        }


def run_drill(ctx: Context, name: str, *, snapshot_id: str | None = None) -> DrillResult:
    """Run drill `name` on the newest snapshot (or `snapshot_id`) and return its result."""
    drill = ctx.config.drills.get(name)
    if drill is None:
        known = ", ".join(sorted(ctx.config.drills)) or "none"
        raise UsageError(f"no drill named {name!r} (configured: {known})")
    verdict = Verdict(ERROR, "the drill did not finish")
    with recorded_run(
        ctx, "drill", plan=drill.plan, repository=drill.repository, subject=name
    ) as record:
        scratch = ctx.config.appliance.scratch_dir / name / str(record.id)
        finished = False
        try:
            verdict = _drill(ctx, name, drill, snapshot_id, record, scratch)
            finished = True
        except DataFinding as finding:
            verdict = Verdict(DATA, finding.message)
            finished = True
        except BdrError as error:
            verdict = Verdict(ERROR, error.message)
            record.fail(error.message, exit_code=int(error.exit_code))
            finished = True
        finally:
            # A partial restore left by an interrupt is of no use to anyone: always removed.
            kept = finished and drill.keep_on_failure and not verdict.passed and scratch.exists()
            if kept:
                record.details["kept_scratch"] = str(scratch)
            else:
                scratch_area.remove(scratch, record.id)
        record.details["verdict"] = verdict.kind
        record.details["reason"] = verdict.reason
        if verdict.kind not in (PASSED, ERROR):
            record.fail(verdict.reason, exit_code=int(ExitCode.DRILL_FAILED))
        record.message = verdict.reason
    return DrillResult(
        record.id,
        name,
        drill.plan,
        drill.repository,
        verdict,
        record.snapshot_id,
        dict(record.details),
    )


def _drill(
    ctx: Context,
    name: str,
    drill: Drill,
    snapshot_id: str | None,
    record: RunRecord,
    scratch: Path,
) -> Verdict:
    plan = ctx.config.plans[drill.plan]
    details = record.details
    details.update(kind=drill.kind, rto=drill.rto, scratch=str(scratch))
    with ctx.lock(drill.repository, purpose=f"drill {name}"):
        env = ctx.env(drill.repository)
        snapshot, listing = _list_snapshot(ctx, drill, snapshot_id)
        record.snapshot_id = snapshot.short_id
        details["snapshot_time"] = snapshot.time.timestamp()
        files = [node for node in ls_nodes(listing) if node.type == "file"]
        full_bytes = sum(node.size for node in files)
        canary = _expected_canary(ctx, drill.plan, snapshot)
        details["canary_path"] = canary.path
        if drill.kind == "sample":
            assert drill.sample is not None
            selection = choose_sample(
                files, snapshot.id, sample_limit(drill.sample, full_bytes), canary_path=canary.path
            )
        else:
            selection = files
        size = sum(node.size for node in selection)
        details.update(
            full_bytes=full_bytes, full_files=len(files), bytes=size, files=len(selection)
        )
        free = free_bytes(ctx.config.appliance.scratch_dir)
        if free < size:
            raise BdrError(
                f"scratch area {ctx.config.appliance.scratch_dir} has {format_size(free)} free; "
                f"restoring {len(selection)} files of snapshot {snapshot.short_id} needs "
                f"{format_size(size)}"
            )
        scratch_area.create(ctx.config.appliance.scratch_dir, name, record.id)
        ctx.say(
            f"drill {name}: restoring {len(selection)} files ({format_size(size)}) of snapshot "
            f"{snapshot.short_id} from {drill.repository}"
        )
        started = time.monotonic()
        # A full drill restores everything in one call; a sample in batches of --include.
        # Paths, not patterns: `weird[1].txt` must not restore `weird1.txt`.
        batches = (
            include_batches([escape(n.path) for n in selection]) if drill.kind == "sample" else [[]]
        )
        restore_errors: list[str] = []
        for batch in batches:
            result = ctx.restic.run(
                ctx.restic.args(build.restore, snapshot.id, str(scratch), includes=batch), env
            )
            if result.outcome is Outcome.NO_SPACE:
                raise BdrError(
                    f"scratch area {ctx.config.appliance.scratch_dir} ran out of space while "
                    f"restoring snapshot {snapshot.short_id} "
                    f"({format_size(free_bytes(scratch))} free now): {result.error_text()}"
                )
            # restic read the repository but could not restore the data as it was saved
            # (a damaged pack, a failed --verify): that is a finding about the data, and the
            # verification below says which files it touched.
            if result.outcome in (Outcome.FAILED, Outcome.DAMAGED):
                restore_errors.append(_damage_text(ctx, result))
            else:
                require_ok(result, f"restore of snapshot {snapshot.short_id}")
        restore_seconds = time.monotonic() - started

    ctx.say(f"drill {name}: verifying")
    verify_started = time.monotonic()
    problems = _verify(drill, canary, selection, scratch, details)
    if restore_errors:
        details["restore_errors"] = restore_errors
        problems.insert(0, f"restic could not restore the data intact: {restore_errors[0]}")
    verify_seconds = time.monotonic() - verify_started

    checks_started = time.monotonic()
    failed_checks = [] if problems else _run_checks(ctx, drill, scratch, plan.sources, details)
    checks_seconds = time.monotonic() - checks_started

    recovery = restore_seconds + verify_seconds + checks_seconds
    details["phases"] = {
        "restore": restore_seconds,
        "verify": verify_seconds,
        "checks": checks_seconds,
    }
    details["recovery_seconds"] = recovery
    projection = _projection(ctx, drill, details, restore_seconds + verify_seconds)
    judged = projection.seconds + checks_seconds if projection else recovery
    details["projected_seconds"] = judged
    details["projected_error_seconds"] = projection.error_seconds if projection else 0.0
    details["projection_method"] = projection.method if projection else "measured"
    return judge(
        data_problems=problems,
        failed_checks=failed_checks,
        recovery_seconds=recovery,
        judged_seconds=judged,
        rto=drill.rto,
        projected=projection is not None,
    )


def _list_snapshot(
    ctx: Context, drill: Drill, snapshot_id: str | None
) -> tuple[Snapshot, list[str]]:
    """Return the drilled snapshot and its `ls --json` lines, in one restic call."""
    what = snapshot_id or "latest"
    listed = ctx.restic.run(
        ctx.restic.args(build.ls, what, plan=drill.plan), ctx.env(drill.repository)
    )
    if listed.outcome is Outcome.DAMAGED:
        raise DataFinding(
            f"snapshot {what} of plan {drill.plan} cannot be read from {drill.repository}: "
            f"{_damage_text(ctx, listed)}"
        )
    result = require_ok(
        listed, f"listing snapshot {what} of plan {drill.plan} in {drill.repository}"
    )
    snapshot = ls_snapshot(result.stdout)
    if snapshot is None:
        raise BdrError(f"plan {drill.plan} has no snapshot in {drill.repository} to drill")
    if build.plan_tag(drill.plan) not in snapshot.tags:
        raise UsageError(f"snapshot {snapshot.short_id} is not a snapshot of plan {drill.plan}")
    return snapshot, result.stdout


def _damage_text(ctx: Context, result: Result) -> str:
    """restic's own words about the damage, and what the technician can do about it."""
    text = result.error_text()
    if result.outcome is Outcome.DAMAGED:
        return (
            f"{text} (the repository is damaged: try {ctx.restic.features.repair_index_command}, "
            "then bdr check)"
        )
    return text


@dataclass(frozen=True)
class RestoredFile:
    path: Path  # on disk, with the name's own bytes
    size: int


def _restored_files(root: Path) -> Iterator[tuple[str, RestoredFile]]:
    """Yield each restored regular file under its snapshot path, as restic's JSON spells it."""
    for directory, _, names in os.walk(root):
        for filename in names:
            path = os.path.join(directory, filename)
            if directory == str(root) and filename == scratch_area.MARKER:
                continue
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                snapshot_path = "/" + os.path.relpath(path, root)
                yield json_name(snapshot_path), RestoredFile(Path(path), info.st_size)


@dataclass(frozen=True)
class ExpectedCanary:
    path: str
    # The hash recorded when the snapshot was made; None when no backup run of it is known.
    sha256: str | None


def _expected_canary(ctx: Context, plan: str, snapshot: Snapshot) -> ExpectedCanary:
    """Return where the snapshot's canary is and its hash, from the backup run that made it."""
    run = runs.backup_run_for_snapshot(ctx.db, plan, [snapshot.id, snapshot.original or ""])
    recorded = run.details if run else {}
    path = recorded.get("canary_path") or canary_path(ctx.config.appliance.state_dir, plan)
    return ExpectedCanary(json_name(str(path)), recorded.get("canary_sha256"))


def _verify(
    drill: Drill,
    canary: ExpectedCanary,
    selection: list[Node],
    scratch: Path,
    details: dict[str, Any],
) -> list[str]:
    """Verify the restored tree; record the counts in `details`; return the data problems."""
    problems: list[str] = []
    restored = dict(_restored_files(scratch))
    diff: TreeDiff = compare_tree(
        {node.path: node.size for node in selection},
        {path: item.size for path, item in restored.items()},
    )
    details["missing"] = [shown(path) for path in diff.missing[:MAX_NAMED]]
    details["extra"] = [shown(path) for path in diff.extra[:MAX_NAMED]]
    details["size_different"] = [shown(path) for path in diff.size_different[:MAX_NAMED]]
    if not diff.ok:
        problems.append(shown(diff.describe()))
    canary_state = _verify_canary(canary, selection, restored)
    details["canary"] = canary_state
    if canary_state in ("mismatch", "missing"):
        problems.append(
            f"canary {canary_state}: the restore does not hold the canary written at backup time "
            f"({canary.path})"
        )
    # Files already found missing or of the wrong size are not compared a second time.
    intact = [
        (node, restored[node.path].path)
        for node in selection
        if node.path in restored
        and restored[node.path].size == node.size
        and node.path != canary.path
    ]
    comparison = _compare_with_source(drill, intact, scratch)
    details.update(
        compared_files=comparison.compared,
        changed_files=comparison.changed,
        gone_files=comparison.gone,
        content_mismatches=[shown(path) for path in comparison.mismatched[:MAX_NAMED]],
    )
    if comparison.mismatched:
        problems.append(
            f"{len(comparison.mismatched)} file(s) differ from the unchanged live source "
            f"(first: {shown(comparison.mismatched[0])})"
        )
    bad = len(diff.missing) + len(diff.size_different) + len(comparison.mismatched)
    details["verified_files"] = len(selection) - bad
    details["mismatched_files"] = bad + len(diff.extra) + (1 if canary_state == "mismatch" else 0)
    if not any(node.path != canary.path for node in selection):
        problems.append(
            "the snapshot holds no file of the plan's sources: nothing of the client's data "
            "was restored or proven"
        )
    return problems


def _verify_canary(
    canary: ExpectedCanary, selection: list[Node], restored: dict[str, RestoredFile]
) -> str:
    """Return ok, mismatch, missing (recorded or listed, not restored), unknown or absent."""
    listed = any(node.path == canary.path for node in selection)
    if not listed:
        # A backup that recorded a canary made a snapshot that must hold it.
        return "missing" if canary.sha256 is not None else "absent"
    found = restored.get(canary.path)
    if found is None:
        return "missing"
    if canary.sha256 is None:
        return "unknown"
    return "ok" if file_sha256(found.path) == canary.sha256 else "mismatch"


def _compare_with_source(
    drill: Drill, selection: list[tuple[Node, Path]], scratch: Path
) -> SourceComparison:
    """Compare restored files with live files that did not change since the snapshot.

    Each file comes with its restored path, whose name has the bytes the live file has (the
    listing's name may hold U+FFFD where the name was not UTF-8).
    """
    comparison = SourceComparison()
    if drill.source_compare == "none":
        return comparison
    candidates: list[tuple[str, Path]] = []
    for node, restored in selection:
        live_path = "/" + os.path.relpath(restored, scratch)
        try:
            info = os.stat(live_path)
            live: tuple[int, int] | None = (info.st_size, info.st_mtime_ns // 1000)
        except OSError:
            live = None
        state = source_state(node, live)
        if state == UNCHANGED:
            candidates.append((live_path, restored))
        elif live is None:
            comparison.gone += 1
        else:
            comparison.changed += 1
    if drill.source_compare == "metadata":
        comparison.compared = len(candidates)
        comparison.matched = len(candidates)
        return comparison

    # One thread: measured faster than two on 500 MB in 10,000 files, the reads being cheap
    # and the GIL handed back and forth on every chunk.
    for live_path, restored in candidates:
        comparison.compared += 1
        if same_content(restored, Path(live_path)):
            comparison.matched += 1
        else:
            comparison.mismatched.append(live_path)
    return comparison


def expand(argument: str, scratch: Path, sources: list[str]) -> str:
    """Replace {restore} (the plan's first source, as restored) and {root} (the scratch root)."""
    restored_source = scratch / resolve_source(sources[0]).lstrip("/")
    return argument.replace("{restore}", str(restored_source)).replace("{root}", str(scratch))


def expected_output(stdout: str, expect: str | None) -> bool:
    """A check passes its `expect` when one line of its output is exactly that text."""
    if expect is None:
        return True
    return any(line.strip() == expect.strip() for line in stdout.splitlines())


def _run_checks(
    ctx: Context, drill: Drill, scratch: Path, sources: list[str], details: dict[str, Any]
) -> list[str]:
    failures: list[str] = []
    results: list[dict[str, Any]] = []
    for index, check in enumerate(drill.checks):
        argv = [expand(argument, scratch, sources) for argument in check.run]
        started = time.monotonic()
        problem = _run_check(ctx, check, argv)
        label = f"checks.{index} ({' '.join(check.run)})"
        results.append(
            {
                "check": label,
                "ok": problem is None,
                "problem": problem,
                "seconds": time.monotonic() - started,
            }
        )
        if problem is not None:
            failures.append(f"{label}: {problem}")
    details["checks"] = results
    return failures


def _run_check(ctx: Context, check: AppCheck, argv: list[str]) -> str | None:
    """Run one application check; return None when it passed, else what went wrong."""
    if check.remote is not None:
        from bdr.remote.ssh import run_remote

        try:
            remote = run_remote(
                check.remote, ctx.config.remote[check.remote], argv, timeout=check.timeout
            )
        except BdrError as error:
            return error.message
        code, stdout, stderr = remote.exit_code, remote.stdout, remote.stderr
    else:
        try:
            completed = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=check.timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError:
            return f"program {argv[0]!r} not found"
        except subprocess.TimeoutExpired:
            return f"still running after {check.timeout}s, stopped"
        code, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
    if code != 0:
        output = stderr.strip() or stdout.strip()
        return f"exited with {code}: {output[-CHECK_OUTPUT_TAIL:]}"
    if not expected_output(stdout, check.expect):
        return f"printed {stdout.strip()[-CHECK_OUTPUT_TAIL:]!r}, expected {check.expect!r}"
    return None


def history_points(ctx: Context, repository: str) -> list[Point]:
    """Return the restore+verify measurements of past drills on `repository` whose data was good."""
    points = []
    for run in runs.finished_runs(ctx.db, "drill", repository=repository, limit=200):
        d = run.details
        phases = d.get("phases")
        if d.get("verdict") in ("passed", "rto", "check") and phases and d.get("bytes") is not None:
            points.append(
                Point(
                    int(d["bytes"]),
                    int(d["files"]),
                    float(phases["restore"]) + float(phases["verify"]),
                )
            )
    return points


def _projection(
    ctx: Context, drill: Drill, details: dict[str, Any], seconds: float
) -> Projection | None:
    """Project the full restore+verify time of a sample drill; None for a full drill."""
    if drill.kind != "sample":
        return None
    sample = Point(int(details["bytes"]), int(details["files"]), seconds)
    history = [*history_points(ctx, drill.repository), sample]
    return project(history, sample, int(details["full_bytes"]), int(details["full_files"]))
